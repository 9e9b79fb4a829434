"""What a reply means, as data: per intent and language, the phrases that say it.

Each entry is a regular expression over lower-cased text with single spaces and straight
apostrophes. Write stems, not forms: `kein\\w*` covers "kein/keine/keinen/keinem", `interess\\w*`
covers "interessiert/interessant/Interesse". Where a phrase can be negated ("interested" →
"not interested"), the engine (engine.inbound.classifier.reply) checks the words before it for
a negator from NEGATORS, so a table needs no "not …" copy of every positive phrase; phrases
that *are* a refusal ("not interested", "kein Bedarf") are listed under `negative`.

Adding a language or a phrasing is a one-line change here and a labelled example in
tests/unit/classifier/reply_examples.py.
"""

from __future__ import annotations

from typing import Final

# Words that turn the phrase after them (within NEGATION_WINDOW words, same clause) around.
NEGATORS: Final = (
    r"not|\w+n't|never|nicht|nie|niemals|kein\w*|pas|jamais|ne|niet|geen|nooit|nunca|nada|"
    r"mai|não|nao|nigdy|nem|no longer|cannot|can't|won't"
)
NEGATION_WINDOW: Final = 3

# One word may open a reply before "yes"/"ja"/"oui" ("Grundsätzlich ja"), but not a negator.
_OPENER: Final = r"(?:(?!not\b|nicht\b|pas\b|no\b|non\b|nie\b|niet\b|não\b)\w+,? )?"

# A whole reply that is only a command word (after quotes and signature are cut).
COMMANDS: Final = (
    r"unsubscribe|stop|remove|remove me|opt out|opt-out|abmelden|austragen|abbestellen|"
    r"désabonner|désinscrire|désinscription|desinscription|stop svp|baja|darme de baja|"
    r"cancelar suscripción|annulla iscrizione|disiscrivi|cancellami|afmelden|uitschrijven|"
    r"descadastrar|cancelar inscrição|wypisz|wypisz mnie|rezygnuję"
)

# An unsubscribe phrase in a sentence like these is someone's mailing footer, not a request
# ("To unsubscribe from our newsletter, click here"; "Wenn Sie sich abmelden möchten, …").
FOOTER_SENTENCE: Final = (
    r"\b(?:click|klicken|cliquez|clic|clicca|klik|kliknij|newsletter|link|hyperlink)\b|"
    r"^\W*(?:if you|to unsubscribe|you can|you may|should you|wenn sie|falls sie|um sich|"
    r"pour vous|si vous|si desea|si no desea|para darse|se non|se desideri|als u|indien u|"
    r"se não|caso não|jeżeli|jeśli)\b"
)

UNSUBSCRIBE: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        r"unsubscrib\w*",
        r"remove (?:me|us|my (?:e-?mail|address|details|name)|this (?:e-?mail|address))",
        r"take (?:me|us|my (?:e-?mail|address)) (?:off|out)",
        r"opt(?:ing|ed)?[ -]?out",
        r"stop (?:e-?mailing|mailing|contacting|sending|writing|messaging|spamming)",
        r"(?:do not|don't|never|please don't|please do not) (?:contact|e-?mail|email|write to|"
        r"message|send (?:me|us) (?:any )?(?:more )?(?:e-?mails|messages)) (?:me|us)?",
        r"no (?:more|further) (?:e-?mails|emails|messages|mails|contact)",
        r"(?:delete|erase) my (?:data|details|e-?mail|address)",
        r"off (?:your|the) (?:mailing )?list",
        r"(?:remov|delet|eras|tak)\w* .{0,30}(?:from|off|out of) (?:your|the|this) (?:mailing |"
        r"e-?mail |distribution |contact )?(?:list|database|records|system|cadence|sequence)",
        r"(?:no longer|don't|do not) (?:wish|want|like) to (?:receive|get|hear from)",
    ),
    "de": (
        r"(?:bitte )?(?:austragen|abmelden|abbestellen)",
        r"(?:trage|tragen) sie mich\b.{0,30}\baus",
        r"(?:lösch|entfern|streich)\w* sie (?:mich|meine (?:daten|adresse|e-?mail\w*|"
        r"kontaktdaten))",
        r"(?:mich|meine (?:adresse|daten|e-?mail\w*)) (?:bitte )?(?:aus|von) "
        r"(?:ihrem|ihrer|dem|der) \w*(?:verteiler|liste|datenbank)",
        r"keine (?:weiteren |weitere )?(?:e-?mails|mails|nachrichten|werbung|zusendungen|"
        r"kontaktaufnahme)",
        r"nicht mehr (?:zu )?(?:kontaktieren|anschreiben|schreiben|anmailen|erhalten|bekommen)",
        r"(?:lösch|entfern|streich|nehm|trag|nimm)\w* .{0,40}(?:von|aus) (?:ihrer|ihrem|der|dem) "
        r"(?:\w+)?(?:liste|verteiler|datenbank|kartei)",
        r"unterlassen sie\b",
        r"widersprech\w* (?:\w+ ){0,3}(?:nutzung|verarbeitung|werbung|kontakt\w*|zusendung)",
    ),
    "fr": (
        r"désabonn\w*|desabonn\w*|désinscri\w*|desinscri\w*",
        r"(?:retir|supprim|enlev|ray|effac)\w*(?:[- ]moi| mon adresse| mon e-?mail| mes "
        r"coordonnées| mes données| (?:\w+ ){0,3}de (?:votre|vos) (?:liste|fichier|base|envois))",
        r"ne (?:plus )?(?:me|nous) (?:plus )?(?:contacter|écrire|envoyer|solliciter)",
        r"(?:ne|n')(?:e)? ?(?:me|nous) (?:contactez|écrivez|envoyez) plus",
        r"plus (?:d'|de )?(?:e-?mails?|messages|courriels|sollicitations)",
        r"(?:ne )?(?:\w+ )?plus recevoir",
        r"(?:retir|supprim|enlev|ray|effac|désinscri|sort)\w* .{0,30}de (?:votre|vos) "
        r"(?:liste|listes|fichier|base de données)",
    ),
    "es": (
        r"(?:dar(?:me|nos)? de baja|darse de baja|denme de baja|de baja)\b",
        r"(?:elimín\w*|elimin\w*|quít\w*|borr\w*) (?:mi|nuestro|nuestra|de su|de la) ?"
        r"(?:correo|dirección|e-?mail|lista|datos)",
        r"no (?:me|nos) (?:escriba\w*|contacte\w*|envíe\w*|vuelva\w* a)",
        r"no (?:quiero|queremos) (?:seguir )?recibir",
        r"(?:saqu|quit|elimin|borr|sac|dar)\w* .{0,30}de (?:su|vuestra|la) (?:lista|base de datos)",
        r"(?:más|mas) (?:correos|e-?mails|mensajes)",
    ),
    "it": (
        r"disiscriv\w*|cancellami|cancellatemi|rimuovetemi|rimuovermi|rimuovere il mio",
        r"non (?:mi|ci) (?:contatt\w*|scriv\w*|invi\w*) più",
        r"non (?:voglio|vogliamo) (?:più )?ricevere",
        r"(?:rimuov|cancell|togli|elimin)\w* .{0,30}dalla (?:vostra |sua )?(?:lista|mailing list|"
        r"banca dati)",
    ),
    "nl": (
        r"afmeld\w*|uitschrijv\w*|uitgeschreven",
        r"verwijder (?:mij|me|ons|mijn (?:e-?mail\w*|adres|gegevens))",
        r"geen (?:e-?mails|mails|berichten) meer",
        r"(?:verwijder|haal|schrap)\w* .{0,30}(?:van|uit) (?:uw|jullie|de) (?:lijst|mailinglijst|"
        r"bestand|database)",
        r"(?:mail|contacteer|benader) (?:mij|me|ons) (?:niet meer|niet langer)",
    ),
    "pt": (
        r"descadastr\w*|cancelar (?:a )?(?:minha )?inscrição",
        r"(?:remova|removam|retire|exclua)[- ]?(?:me|meu (?:e-?mail|endereço)|nos)",
        r"não (?:me|nos) (?:envie|enviem|contate|contatem|mande|mandem) mais",
        r"não (?:quero|queremos) (?:mais )?receber",
        r"(?:tir|retir|remov|exclu|apag)\w* .{0,30}(?:da|de) (?:sua |vossa )?(?:lista|"
        r"base de dados|mailing)",
    ),
    "pl": (
        r"wypisz\w*|wypisać|rezygnuj\w*|rezygnacj\w*",
        r"usu[nń]\w* (?:mnie|mój adres|nas|moje dane)",
        r"(?:usu[nń]|wypis|skreśl)\w* .{0,30}z (?:listy|bazy|waszej bazy|waszej listy|mailingu)",
        r"proszę (?:więcej )?nie (?:pisać|wysyłać|kontaktować)",
        r"nie (?:chcę|chcemy) (?:więcej )?otrzymywać",
    ),
}

REFERRAL: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        r"not the (?:right|best|correct) (?:person|contact)",
        r"wrong (?:person|contact|guy|team|department|address)",
        r"(?:isn't|is not|not) (?:really )?my (?:area|department|responsibility|field|remit|call|"
        r"decision|domain)",
        r"try (?:my |our )?(?:colleague|[a-z]+ (?:in|at|from|on)\b)",
        r"(?:is|are|would be|might be) (?:the )?(?:right|best|better|correct) "
        r"(?:person|people|contact|one)",
        r"(?:the )?(?:right|best|better) (?:person|contact) (?:is|would be|to (?:talk|speak))",
        r"(?:is|are) (?:responsible|in charge) (?:for|of)",
        r"(?:who|that) (?:handles|owns|runs|manages|looks after) (?:this|that|these|our)",
        r"someone else (?:handles|is responsible|takes care|looks after)",
        r"(?:please |you (?:should|could|might want to|may want to|'d better) )?"
        r"(?:reach out to|get in touch with|talk to|speak (?:to|with)|write to|"
        r"contact|e-?mail|ping) (?!(?:me|us|our team|you)\b)"
        r"(?:my |our )?(?:colleague|co-?worker|team ?mate|boss|manager|head of|cto|ceo|cfo|"
        r"coo|vp|director|[\w.+-]+@|"
        r"(?:[a-z]+ ){1,2}(?:instead|directly|at|on|who|she|he|from|in)\b)",
        r"i(?:'ve| have)? (?:cc'?d|copied|looped in|forwarded (?:this|your))",
        r"(?:cc'?ing|copying|looping in|forwarding (?:this|your) (?:e-?mail|message|note)? ?to)",
    ),
    "de": (
        r"zuständig\w*",
        r"verantwortlich\w*",
        r"ansprechpartner\w*",
        r"wenden sie sich (?:bitte |gerne |doch )?an",
        r"(?:schreiben|melden) sie sich (?:bitte |gerne |doch )?(?:bei|an)",
        r"(?:schreiben|mailen) sie (?:bitte |gerne |doch )?(?:an|direkt an|herrn|frau)",
        r"kontaktieren sie (?:bitte |gerne |doch )?(?:meine|meinen|herrn|frau|unser\w*|\w+@)",
        r"(?:habe|hab) (?:ihre \w+ |das |es |sie )?(?:an \S+ )?weitergeleitet",
        r"leite (?:ihre \w+ |das |es |sie )?.{0,40}weiter",
        r"in (?:kopie|cc) (?:gesetzt|genommen)",
        r"nicht (?:der|die) richtige",
    ),
    "fr": (
        r"(?:est|sera|serait) (?:la bonne personne|le bon interlocuteur|la personne)",
        r"(?:est|sont) (?:responsable|en charge)",
        r"adressez[- ]vous (?:à|a)",
        r"(?:contactez|écrivez à|ecrivez a|voyez avec) (?!moi\b)",
        r"(?:je )?(?:transmets|ai transmis|transfère|ai transféré)",
        r"en copie",
        r"pas (?:la bonne personne|le bon interlocuteur)",
    ),
    "es": (
        r"(?:es|sería) (?:la persona (?:adecuada|indicada|correcta)|el responsable|la responsable)",
        r"(?:es|son) (?:responsable|el encargado|la encargada|quien lleva)",
        r"(?:contacte|contacta|escriba|escribe|diríjase|dirigirse) (?:a|con) (?!mí\b)",
        r"(?:le )?he (?:reenviado|copiado)|en copia",
        r"no soy la persona",
    ),
    "it": (
        r"(?:è|sarebbe) (?:la persona giusta|il referente|la referente|responsabile)",
        r"(?:rivolg|contatt|scriv)\w* (?:a|al|alla|allo|ai|con) (?!me\b)",
        r"(?:ho inoltrato|inoltro|in copia)",
        r"non sono la persona",
    ),
    "nl": (
        r"(?:is|zijn) verantwoordelijk|verantwoordelijk voor",
        r"neem (?:contact )?op met|(?:mail|bel) (?:naar |met )?(?!mij|me\b)\w+@",
        r"(?:heb )?(?:doorgestuurd|doorgezet)|in cc",
        r"niet de juiste persoon",
    ),
    "pt": (
        r"(?:é|seria) (?:a pessoa certa|o responsável|a responsável)",
        r"(?:entre em contato|fale|escreva) (?:com|para) (?!mim\b)",
        r"(?:encaminhei|em cópia)",
        r"não sou a pessoa",
    ),
    "pl": (
        r"odpowiedzialn\w* (?:jest|za)|zajmuje się tym",
        r"(?:proszę )?(?:pisać|napisać|kontaktować się|skontaktować się) (?:do|z) (?!mną)",
        r"przekazałem|przekazałam|w kopii",
    ),
}

# Naming a colleague is a referral only when the reply also gives an address to write to.
REFERRAL_WITH_ADDRESS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        r"(?:my|our) (?:colleague|co-?worker|team ?mate|boss|manager|cto|ceo|cfo|head of)",
        r"(?:leads|owns|runs|manages|handles|covers|decides on) (?:it|this|that|these)\b",
    ),
    "de": (
        r"(?:meine|meinen|meinem|meiner|unsere|unseren|unserem|unserer) (?:kolleg\w*|chef\w*|"
        r"vorgesetzt\w*|geschäftsführ\w*|einkauf\w*|abteilung\w*)",
    ),
    "fr": (r"(?:mon|ma|notre) (?:collègue|responsable|directeur|directrice)",),
    "es": (r"(?:mi|nuestro|nuestra) (?:compañer\w*|colega|responsable|jef\w*|director\w*)",),
    "it": (r"(?:mio|mia|nostro|nostra) (?:collega|responsabile|capo)",),
    "nl": (r"(?:mijn|onze) (?:collega|leidinggevende|manager)",),
    "pt": (r"(?:meu|minha|nosso|nossa) (?:colega|responsável|gerente|diretor\w*)",),
    "pl": (r"(?:mój|moja|mojego|moją|mojej) (?:kolega|koleżank\w*|przełożon\w*)",),
}

NEGATIVE: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        r"not (?:\w+ )?interested|no interest|uninterested|not for (?:us|me)",
        r"no,? thanks?|no thank you|thanks,? but no|i'?ll pass|we'?ll pass|(?:have to|must) pass",
        r"pass (?:on|for now)",
        r"(?:we'?re|we are|i'?m|i am) (?:all )?(?:set|good|covered|sorted)"
        r"(?= for now| here| thanks| on (?:this|that|our)|[,.!]|$)",
        r"\ball set\b",
        r"not (?:a |the )?(?:good |great |right )?(?:fit|match|priority|right time|good time)",
        r"not (?:right )?now|not at (?:this|the moment|the minute)|not this (?:year|quarter)",
        r"not (?:looking|in the market|considering|planning)",
        r"(?:already|currently) (?:have|use|using|work with|working with|signed|partnered)",
        r"(?:happy|satisfied|fine) with (?:our|the) (?:current|existing)",
        r"no (?:need|budget|use for|requirement|capacity|bandwidth)\b|no plans? (?:to|for)\b",
        r"(?:don't|do not|doesn't) need",
        r"(?:don't|do not|doesn't|does not) have (?:the |a |any )?(?:budget|capacity|bandwidth|"
        r"need|resources|time for)",
        r"not in a position|not (?:currently |actively )?(?:looking|searching|shopping) for",
        r"not relevant|irrelevant|not applicable|doesn't apply",
        r"(?:decline|declining|have to say no|going to say no)",
        r"^(?:no|nope|no way)[.!]*$",
        r"(?:went|gone|going|go|chose|chosen|selected|signed|decided to go) (?:with|for) "
        r"(?:another|a different|an other|someone else|a competitor|other)",
        r"(?:another|a different) (?:vendor|provider|supplier|solution|tool|partner)",
        r"(?:build|building|built) (?:it |this |that |our own )?(?:in-?house|ourselves)",
        r"(?:isn't|is not|wasn't) (?:something|a priority|for us)",
    ),
    "de": (
        r"kein\w* (?:interesse|bedarf|budget|verwendung|notwendigkeit|zeit dafür)",
        r"nicht (?:\w+ )?interessiert|uninteressant|nicht interessant",
        r"(?:sind|bin) (?:\w+ )?(?:gut|bestens|ausreichend|bereits|schon) "
        r"(?:aufgestellt|versorgt|ausgestattet|abgedeckt|bedient)",
        r"(?:brauchen|benötigen|bräuchten|benötigten) (?:wir |ich )?(?:\w+ ){0,3}(?:nicht|kein\w*)",
        r"(?:wir|ich) (?:haben|nutzen|verwenden|arbeiten|sind) (?:\w+ )?(?:bereits|schon) ",
        r"(?:haben|nutzen|verwenden|arbeiten) (?:wir|ich) (?:\w+ )?(?:bereits|schon) ",
        r"passt (?:\w+ ){0,3}nicht",
        r"(?:anderen|andere|anderes) (?:anbieter|dienstleister|lösung|partner|tool|software)",
        r"nein,? danke|danke,? nein|danke,? aber (?:nein|nicht|kein\w*)|^nein[.!]*$",
        r"(?:derzeit|aktuell|momentan|zurzeit|im moment) (?:\w+ )?(?:nicht|kein\w*)",
        r"nicht (?:relevant|der richtige zeitpunkt|für uns|das richtige|passend)",
        r"(?:verzichten|absage|lehnen \w+ ab|müssen (?:\w+ )?absagen)",
        r"kein\w* (?:kapazität\w*|ressourcen|mittel)",
        r"(?:suchen|brauchen) (?:\w+ ){0,2}nicht|nicht auf der suche",
    ),
    "fr": (
        r"pas (?:\w+ )?intéress\w*|aucun intérêt|ne (?:nous|m')intéresse pas",
        r"non,? merci|merci,? mais non",
        r"pas (?:besoin|pour (?:nous|le moment|l'instant)|le bon moment|prioritaire)",
        r"(?:avons|ai) déjà|sommes (?:déjà )?(?:bien )?équipés",
        r"pas (?:de |d')(?:budget|besoin|temps|projet)",
        r"ne (?:cherchons|recherchons) pas|pas à la recherche",
    ),
    "es": (
        r"no (?:\w+ )?(?:estoy|estamos) interesad\w*|no (?:me|nos) interesa",
        r"no,? gracias|gracias,? pero no",
        r"ya (?:tenemos|contamos|usamos|trabajamos)",
        r"no (?:es|sería) (?:el momento|para nosotros|prioridad)|no necesitamos",
        r"no (?:tenemos|hay|contamos con) (?:\w+ )?(?:presupuesto|necesidad|tiempo|planes)",
        r"no (?:estamos|estoy) buscando|sin presupuesto",
    ),
    "it": (
        r"non (?:\w+ )?(?:siamo|sono) interessat\w*|non (?:mi|ci) interessa",
        r"no,? grazie|grazie,? ma no",
        r"(?:abbiamo|usiamo) già|non (?:abbiamo|ho) bisogno|non è il momento",
        r"non (?:abbiamo|ho) (?:\w+ )?(?:budget|tempo)|non stiamo cercando",
    ),
    "nl": (
        r"geen (?:interesse|behoefte|budget)|niet (?:\w+ )?geïnteresseerd|niet geinteresseerd",
        r"nee,? (?:dank je|dank u|bedankt)",
        r"(?:hebben|gebruiken) (?:al|reeds)|niet (?:nodig|relevant)",
        r"geen capaciteit|niet op zoek",
    ),
    "pt": (
        r"não (?:\w+ )?(?:tenho|temos) interesse|não (?:\w+ )?(?:estou|estamos) interessad\w*",
        r"não,? obrigad\w*|sem interesse",
        r"já (?:temos|usamos|utilizamos|trabalhamos)|não (?:precisamos|é o momento)",
        r"não (?:temos|há) (?:\w+ )?(?:orçamento|necessidade|tempo)|não estamos procurando",
    ),
    "pl": (
        r"nie (?:\w+ )?(?:jestem|jesteśmy) zainteresowan\w*|nie interesuje (?:mnie|nas)",
        r"nie,? dziękuję",
        r"(?:mamy|używamy) już|nie potrzebujemy",
        r"nie mamy (?:\w+ )?(?:budżetu|czasu|potrzeby)|nie szukamy",
    ),
}

POSITIVE: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        r"interested|keen (?:to|on)|intrigued|curious to (?:learn|hear|see)",
        r"sounds (?:good|great|interesting|promising|like a plan)|that works|works for me",
        r"let'?s (?:talk|chat|meet|connect|schedule|set (?:something|it|one|a)|do it|"
        r"find a time|book|hop on)",
        r"(?:send|share|forward|shoot) (?:me |us |over )*(?:\w+ ){0,3}(?:pricing|price\w*|"
        r"a quote|quote|proposal|deck|info|information|details|brochure|times|availability|"
        r"an invite|a calendar|your calendar|a link|case stud\w*)",
        r"(?:book|schedule|set up|arrange|organi[sz]e|hop on|jump on|have) (?:a |an |some )?"
        r"(?:quick |short |brief |15[- ]min(?:ute)? |30[- ]min(?:ute)? )?"
        r"(?:call|demo|meeting|chat|conversation|walkthrough|time)",
        r"(?:see|get|like|love|want|need) (?:a |to see a |to get a )?(?:demo|trial|quote|pricing)",
        r"(?:happy|glad|open|would love|'d love|keen) to (?:chat|talk|meet|connect|hear|learn|"
        r"take a look|see|try|discuss|explore|jump)",
        r"(?:tell|show) me more|learn more|hear more|know more",
        r"(?:free|available) (?:on|at|next|this|tomorrow|monday|tuesday|wednesday|thursday|friday)",
        r"what (?:does|is) your (?:availability|calendar)|when (?:are|would) you (?:be )?free",
        r"(?:do|would) you have (?:\d+|a few|some|time|a moment|a slot)\b",
        r"(?:grab|book|take|find|pick|block|hold) (?:\w+ ){0,2}(?:minutes|mins|slot|time)\b",
        r"what (?:monday|tuesday|wednesday|thursday|friday|next week|tomorrow|your week) "
        r"looks like",
        r"(?:for|about) a (?:quick |short |brief )?(?:call|demo|walkthrough|meeting|chat)\b",
        r"(?:give|get|provide|quote) (?:me |us )?(?:a |an |your )?(?:quote|proposal|offer|"
        r"estimate|pricing)",
        r"(?:on|in|to|into|for) (?:my|our|your) calendar",
        r"calendly|my calendar",
        r"^" + _OPENER + r"(?:yes|yeah|yep|sure|absolutely|definitely)\b(?! but| not)",
        r"(?:i'?m|we'?re|i am|we are) open to (?:it|this|that|a|an|the|talking|learning)",
    ),
    "de": (
        r"\bgerne?\b",
        r"interess\w*",
        r"klingt (?:\w+ )?(?:interessant|gut|spannend|vielversprechend)",
        r"\btermin\w*",
        r"lassen sie uns|lass uns",
        r"(?:schicken|senden|übermitteln|schick|sende) sie (?:mir|uns) (?:\w+ ){0,3}"
        r"(?:angebot|preis\w*|unterlagen|infos?|informationen|details|demo|präsentation|"
        r"vorschlag|link|einladung)",
        r"(?:ein |eine |einen )?(?:angebot|preisliste|demo|vorführung|rückruf|telefonat|gespräch)"
        r" (?:\w+ ){0,3}(?:würde|hätte|wäre|freue|bitte|gern)",
        r"(?:können|könnten) wir (?:gerne |mal |uns )?(?:telefonieren|sprechen|treffen|"
        r"austauschen)",
        r"rufen sie (?:mich |uns )?(?:\w+ ){0,3}an\b",
        r"^" + _OPENER + r"(?:ja|jawohl|sicher|klar)\b(?! aber)",
        r"(?:melden sie sich|freue mich) (?:\w+ ){0,3}(?:auf|über|gern)",
        r"passt (?:mir|uns) (?:gut|gerne|am|um|morgen|\w+tags?|\w+woch)",
        r"(?:vereinbar|ausmach|einplan)\w* (?:\w+ ){0,2}(?:termin|gespräch|telefonat|call)",
    ),
    "fr": (
        r"intéress\w*",
        r"volontiers|avec plaisir|bonne idée",
        r"(?:envoyez|envoyer|transmettez)[- ](?:moi|nous) (?:\w+ ){0,3}(?:tarifs|prix|offre|devis|"
        r"informations|infos|documentation|proposition|présentation|disponibilités)",
        r"(?:prendre|fixer|caler|organiser) (?:un )?(?:rendez-vous|rdv|appel|créneau|démo)",
        r"(?:une )?démo|(?:un )?appel (?:la semaine|demain|lundi|mardi|mercredi|jeudi|vendredi)",
        r"discutons|échangeons|parlons-en|d'accord pour",
        r"^" + _OPENER + r"(?:oui|bien sûr|d'accord)\b(?! mais)",
        r"je (?:veux|voudrais) bien|j'aimerais (?:bien )?(?:voir|recevoir|en savoir|échanger)",
    ),
    "es": (
        r"interesa|interesad\w*|interesante",
        r"(?:envíe|envie|mánde|mande|envíen|mándeme)(?:me|nos)? (?:\w+ ){0,3}(?:precios|"
        r"información|info|propuesta|presupuesto|cotización|detalles|demo)",
        r"(?:agendar|programar|tener|hacer) (?:una )?(?:llamada|reunión|demo|cita)",
        r"(?:podemos|hablemos|encantad\w* de) (?:hablar|conversar|reunir|charlar)|hablemos",
        r"con gusto|me parece bien|suena bien",
        r"^" + _OPENER + r"(?:sí|si(?=[,.!])|claro|por supuesto)\b(?! pero)",
        r"me gustaría (?:ver|tener|recibir|agendar|hablar|saber|conocer)",
        r"(?:agend|program)\w* (?:una )?(?:llamada|reunión|demo|cita)",
    ),
    "it": (
        r"interess\w*",
        r"(?:inviatemi|inviami|mandatemi|mi mandi|mi invii|mi inviate) (?:\w+ ){0,3}(?:prezzi|"
        r"listino|offerta|informazioni|dettagli|preventivo|proposta|presentazione|demo)",
        r"(?:fissare|organizzare|fare) (?:una )?(?:chiamata|call|demo|riunione|appuntamento)",
        r"(?:possiamo|potremmo) (?:sentirci|parlarne|parlare|incontrarci)|volentieri|con piacere",
        r"^" + _OPENER + r"(?:sì|certo|certamente)\b(?! ma)",
        r"vorrei (?:vedere|ricevere|una demo|sapere|parlare)",
        r"(?:fiss|organizz)\w* (?:una )?(?:chiamata|call|demo|riunione|appuntamento)",
    ),
    "nl": (
        r"interessant|geïnteresseerd|geinteresseerd|interesse",
        r"(?:stuur|stuurt|mail) (?:me|mij|ons) (?:\w+ ){0,3}(?:prijzen|offerte|informatie|info|"
        r"voorstel|demo)",
        r"(?:afspraak|belafspraak|demo|gesprek) (?:\w+ ){0,3}(?:inplannen|maken|plannen)",
        r"\bgraag\b|klinkt (?:goed|interessant)|laten we",
        r"^" + _OPENER + r"(?:ja|zeker|prima)\b(?! maar)",
        r"(?:plan|plannen|maak|maken)\w* (?:\w+ ){0,3}(?:gesprek|afspraak|demo|call) in",
    ),
    "pt": (
        r"interess\w*",
        r"(?:me |nos )?(?:envie|enviem|mande|mandem)(?:-me|-nos)? (?:\w+ ){0,3}(?:preços|"
        r"proposta|informações|orçamento|detalhes|demo)",
        r"(?:agendar|marcar) (?:uma )?(?:reunião|chamada|conversa|demo|call)",
        r"(?:podemos|vamos) (?:conversar|falar|marcar)|com prazer|parece bom",
        r"^" + _OPENER + r"(?:sim|claro|com certeza)\b(?! mas)",
        r"gostaria de (?:ver|receber|agendar|conversar|saber|conhecer)",
    ),
    "pl": (
        r"zainteresowan\w*|interesuje",
        r"(?:proszę o|prosimy o|poproszę) (?:\w+ ){0,2}(?:ofert\w*|cennik|informacj\w*|demo|"
        r"prezentacj\w*|rozmow\w*|spotkani\w*)",
        r"(?:umówmy|umówić) się|(?:możemy|chętnie) (?:porozmawiać|się spotkać)|chętnie",
        r"^" + _OPENER + r"(?:tak|oczywiście)\b(?! ale)",
        r"chciał\w* (?:\w+ )?(?:zobaczyć|otrzymać|porozmawiać|demo)",
    ),
}

# Sentences that open with these ask something even without a question mark.
QUESTION_WORDS: Final = (
    r"what|how|why|when|where|who|which|"
    r"(?:can|could|would|do|does|is|are|will|should|did) (?:you|we|i|it|there|they|this|that)|"
    r"wie|warum|wann|wo|wer|welche[rsnm]?|was|(?:können|könnten|kann|ist|sind|gibt) es|"
    r"(?:können|könnten|haben|sind|kann) (?:sie|wir|ich)|"
    r"quel\w*|comment|pourquoi|quand|où|combien|est-ce que|"
    r"qué|que|cómo|cuándo|dónde|cuánto|cuál|"
    r"cosa|come|quando|dove|quanto|quale|"
    r"wat|hoe|waarom|wanneer|waar|welke|"
    r"o que|como|porque|quando|onde|quanto|qual|"
    r"co|jak|dlaczego|kiedy|gdzie|ile|czy"
)
