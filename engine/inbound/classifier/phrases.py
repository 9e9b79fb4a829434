"""What reporting servers write, per language, as data: the phrase table behind bounce reasons.

One row per language and category. The categories answer the one question a status code may
leave open — is it the address, the mailbox or a policy? — and never whether a failure is
permanent: that is the status code's class (RFC 3463) or the reply code's (RFC 5321).

- `address`: the address or its domain does not exist (hard bounce)
- `full`: the mailbox is full or over quota (soft)
- `disabled`: the mailbox exists but is disabled, suspended or inactive (soft)
- `policy`: refused because of the sender: spam, content, reputation, policy (blocked)
- `temporary`: the server says to try again later (soft, and only without a 5xx code)

English lives in `bounce_reasons` (its rules are finer grained); the phrases here are lower
case, matched against lower-cased text, and written with and without accents where servers
commonly drop them. Each language has a test (tests/unit/classifier/test_bounce_languages.py).
"""

from __future__ import annotations

LANGUAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "de": {
        "address": (
            r"(?:empf(?:ä|ae)nger|benutzer|adresse|postfach|mailbox|konto)"
            r"(?:adresse)? (?:ist )?(?:unbekannt|ung(?:ü|ue)ltig|nicht vorhanden)",
            r"unbekannte[rn]? (?:empf(?:ä|ae)nger|benutzer|adresse)",
            r"existiert nicht",
            r"gibt es nicht",
            r"ung(?:ü|ue)ltige (?:e-?mail-?)?adresse",
            r"kein(?:en)? (?:solche[rn]? )?(?:benutzer|empf(?:ä|ae)nger|postfach)",
            r"domain (?:ist )?(?:unbekannt|existiert nicht)",
        ),
        "full": (
            r"postfach (?:ist )?(?:voll|(?:ü|ue)berf(?:ü|ue)llt)",
            r"speicher(?:platz|grenze)? (?:ist )?(?:voll|(?:ü|ue)berschritten|ersch(?:ö|oe)pft)",
            r"(?:quota|kontingent) (?:ist )?(?:(?:ü|ue)berschritten|erreicht)",
        ),
        "disabled": (
            r"(?:postfach|konto|benutzer) (?:ist |wurde )?(?:vor(?:ü|ue)bergehend )?"
            r"(?:deaktiviert|gesperrt|stillgelegt|inaktiv)",
        ),
        "policy": (
            r"als spam",
            r"spam-?verdacht",
            r"unerw(?:ü|ue)nschte",
            r"richtlinie",
            r"abgelehnt (?:wegen|aufgrund)",
            r"absender (?:ist )?(?:gesperrt|blockiert|abgelehnt)",
        ),
        "temporary": (
            r"vor(?:ü|ue)bergehend",
            r"sp(?:ä|ae)ter erneut",
            r"zeit(?:ü|ue)berschreitung",
        ),
    },
    "fr": {
        "address": (
            r"n['’]existe pas",
            r"inexistante?",
            r"(?:destinataire|utilisateur|adresse|compte|bo(?:î|i)te) "
            r"(?:est )?(?:inconnue?|invalide|introuvable|incorrecte)",
            r"adresse (?:e-?mail |(?:é|e)lectronique )?(?:invalide|inconnue|incorrecte)",
            r"aucun (?:utilisateur|destinataire|compte)",
        ),
        "full": (
            r"bo(?:î|i)te (?:aux lettres |mail |de r(?:é|e)ception )?(?:est )?pleine",
            r"quota (?:est )?(?:d(?:é|e)pass(?:é|e)|atteint)",
            r"espace (?:de stockage |disque )?insuffisant",
        ),
        "disabled": (
            r"(?:compte|bo(?:î|i)te|utilisateur) (?:est |a (?:é|e)t(?:é|e) )?"
            r"(?:d(?:é|e)sactiv(?:é|e)e?|suspendue?|bloqu(?:é|e)e?|inactif|inactive)",
        ),
        "policy": (
            r"pollupostage",
            r"courrier (?:ind(?:é|e)sirable|non sollicit(?:é|e))",
            r"polluriel",
            r"politique (?:de s(?:é|e)curit(?:é|e)|anti-?spam)",
            r"refus(?:é|e) (?:pour|par|en raison)",
            r"exp(?:é|e)diteur (?:est )?(?:bloqu(?:é|e)|refus(?:é|e)|interdit)",
        ),
        "temporary": (r"temporaire", r"ult(?:é|e)rieurement", r"r(?:é|e)essayer plus tard"),
    },
    "es": {
        "address": (
            r"no existe",
            r"(?:usuario|destinatario|cuenta|buz(?:ó|o)n) (?:es )?(?:desconocido|inexistente|"
            r"no v(?:á|a)lido|inv(?:á|a)lido)",
            r"direcci(?:ó|o)n (?:de correo )?(?:electr(?:ó|o)nica )?(?:no v(?:á|a)lida|"
            r"inv(?:á|a)lida|desconocida|inexistente)",
            r"no se (?:encontr(?:ó|o)|encuentra) (?:el )?(?:usuario|destinatario|buz(?:ó|o)n)",
        ),
        "full": (
            r"buz(?:ó|o)n (?:est(?:á|a) )?(?:lleno|completo)",
            r"(?:cuota|capacidad) (?:excedida|superada|llena)",
            r"sin espacio",
        ),
        "disabled": (
            r"(?:cuenta|buz(?:ó|o)n|usuario) (?:est(?:á|a) |ha sido )?"
            r"(?:desactivad[oa]|suspendid[oa]|bloquead[oa]|deshabilitad[oa]|inactiv[oa])",
        ),
        "policy": (
            r"correo no (?:deseado|solicitado)",
            r"pol(?:í|i)tica (?:de seguridad|antispam)",
            r"rechazado (?:por|debido)",
            r"remitente (?:bloqueado|rechazado)",
        ),
        "temporary": (r"temporal(?:mente)?", r"m(?:á|a)s tarde", r"int(?:é|e)ntelo de nuevo"),
    },
    "it": {
        "address": (
            r"non esiste",
            r"inesistente",
            r"(?:utente|destinatario|indirizzo|casella) (?:è |e' )?(?:sconosciut[oa]|"
            r"non valid[oa]|inesistente)",
            r"indirizzo (?:e-?mail )?non (?:valido|trovato)",
        ),
        "full": (
            r"casella (?:di posta )?(?:è |e' )?(?:piena|satura)",
            r"spazio (?:insufficiente|esaurito)",
            r"quota (?:superata|esaurita|raggiunta)",
        ),
        "disabled": (
            r"(?:account|casella|utente) (?:è |e' |stat[oa] )?"
            r"(?:disattivat[oa]|sospes[oa]|bloccat[oa]|disabilitat[oa])",
        ),
        "policy": (
            r"posta indesiderata",
            r"politica (?:di sicurezza|antispam)",
            r"rifiutat[oa] (?:per|a causa)",
            r"mittente (?:bloccato|rifiutato)",
        ),
        "temporary": (r"temporane(?:o|a|amente)", r"riprova(?:re)? pi(?:ù|u) tardi"),
    },
    "nl": {
        "address": (
            r"bestaat niet",
            r"onbekende (?:gebruiker|ontvanger|geadresseerde)",
            r"(?:gebruiker|ontvanger|adres|mailbox|postvak) (?:is )?(?:onbekend|ongeldig)",
            r"ongeldig (?:e-?mail)?adres",
            r"niet (?:gevonden|bekend)",
        ),
        "full": (
            r"(?:mailbox|postvak|postbus) (?:is )?vol",
            r"quot(?:a|um) (?:is )?(?:overschreden|bereikt)",
            r"onvoldoende (?:schijf|opslag)?ruimte",
        ),
        "disabled": (
            r"(?:account|mailbox|postvak|gebruiker) (?:is )?(?:tijdelijk )?"
            r"(?:uitgeschakeld|geblokkeerd|opgeschort|gedeactiveerd|inactief)",
        ),
        "policy": (
            r"ongewenste (?:e-?mail|berichten)",
            r"beleid",
            r"geweigerd (?:vanwege|wegens|door)",
            r"afzender (?:is )?(?:geblokkeerd|geweigerd)",
        ),
        "temporary": (r"tijdelijk", r"later opnieuw"),
    },
    "pt": {
        "address": (
            r"n(?:ã|a)o existe",
            r"(?:usu(?:á|a)rio|utilizador|destinat(?:á|a)rio|conta|endere(?:ç|c)o) "
            r"(?:(?:é|e) )?(?:desconhecido|inexistente|inv(?:á|a)lido)",
            r"endere(?:ç|c)o (?:de e-?mail )?(?:inv(?:á|a)lido|desconhecido|inexistente)",
        ),
        "full": (
            r"caixa (?:postal |de (?:correio|entrada) )?(?:est(?:á|a) )?(?:cheia|lotada)",
            r"(?:cota|quota) (?:excedida|ultrapassada|esgotada)",
            r"espa(?:ç|c)o insuficiente",
        ),
        "disabled": (
            r"(?:conta|caixa|usu(?:á|a)rio) (?:est(?:á|a) |foi )?"
            r"(?:desativad[ao]|suspens[ao]|bloquead[ao]|inativ[ao])",
        ),
        "policy": (
            r"lixo eletr(?:ô|o)nico",
            r"pol(?:í|i)tica (?:de seguran(?:ç|c)a|antispam)",
            r"rejeitad[ao] (?:por|devido)",
            r"remetente (?:bloqueado|rejeitado)",
        ),
        "temporary": (r"tempor(?:á|a)ri[ao]", r"mais tarde"),
    },
    "pl": {
        "address": (
            r"nie istnieje",
            r"nieznany (?:u(?:ż|z)ytkownik|odbiorca|adresat|adres)",
            r"(?:u(?:ż|z)ytkownik|odbiorca|adres) (?:jest )?(?:nieznany|nieprawid(?:ł|l)owy)",
            r"nieprawid(?:ł|l)owy adres",
            r"brak (?:takiego )?(?:u(?:ż|z)ytkownika|konta|odbiorcy|adresu)",
        ),
        "full": (
            r"skrzynka (?:jest )?(?:pe(?:ł|l)na|przepe(?:ł|l)niona)",
            r"przekroczon[oy] (?:limit|przydzia(?:ł|l)|quot)",
            r"brak (?:wolnego )?miejsca",
        ),
        "disabled": (
            r"konto (?:jest |zosta(?:ł|l)o )?(?:zablokowane|wy(?:ł|l)(?:ą|a)czone|zawieszone)",
        ),
        "policy": (
            r"spam",
            r"odrzucon[aey] (?:przez|z powodu)",
            r"polityk[aię] (?:bezpiecze(?:ń|n)stwa|antyspam)",
            r"nadawca (?:jest )?(?:zablokowany|odrzucony)",
        ),
        "temporary": (r"tymczasow", r"spr(?:ó|o)buj (?:ponownie )?p(?:óź|oz)niej"),
    },
}
