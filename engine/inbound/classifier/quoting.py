"""The newly written part of a human reply: everything above the quoted history and signature.

Mail clients mark what they quote in a handful of documented ways, and we look for those,
not for the words of any one message:

- quote prefixes: `>` (RFC 3676 §4.5, every client) and `| ` (some webmail and Lotus Notes);
- an attribution line before the quote ("On … wrote:", "Am … schrieb …:", "Le … a écrit :",
  "El … escribió:", "Il … ha scritto:", "Op … schreef …:", "Em … escreveu:", "… napisał(a):"),
  also when the client hard-wrapped it over two or three lines;
- a separator ("-----Original Message-----" and its translations, a line of underscores);
- a header block of the quoted message as Outlook and Gmail render it: `From:`/`Sent:`/`To:`/
  `Subject:` in the languages above, optionally bold as Gmail's plain text shows it (`*From:*`);
- the signature: the `-- ` delimiter (RFC 3676 §4.3), a mobile client's footer ("Sent from my
  iPhone", "Von meinem iPhone gesendet", …), a closing line ("Best regards", "Viele Grüße"),
  or the first line of a legal notice ("This e-mail is confidential…", "Sitz der Gesellschaft").

Bottom-posted and interleaved replies (the new text below or between the quoted lines) keep
their unquoted lines.
"""

from __future__ import annotations

import re

from engine.inbound.classifier.parse import html_to_text

# "wrote:" and its equivalents; the attribution is the whole (possibly wrapped) line ending so.
_WROTE = (
    r"wrote|writes|said|schrieb|schreibt|a écrit|a ecrit|escribió|escribio|ha scritto|scrisse|"
    r"schreef|heeft geschreven|escreveu|napisał\w*|napisal\w*|написал\w*|skrev|kirjoitti|yazdı"
)
_PREFIX = r"(?:on|am|le|el|il|op|em|w dniu|dnia|den|dne|at)"
_ATTRIBUTION = re.compile(
    # "On <date>, <name> wrote" (a date in it; the colon optional) …
    r"^[\s*>-]*" + _PREFIX + r"\s(?=.*\d).{0,300}\b(?:" + _WROTE + r")[\s*]*:?[\s*]*$"
    # … or anything ending "<name> wrote:" / "schrieb <name> <addr>:" with its colon.
    r"|^[\s*>-]*.{0,300}\b(?:" + _WROTE + r")\b[^!?]{0,150}:[\s*]*$",
    re.I,
)
# The first line of a wrapped attribution: a prefix, or a date/address, not a sentence end.
_ATTRIBUTION_START = re.compile(
    r"^[\s*>-]*" + _PREFIX + r"\s\S.{5,}$|^(?=.*(?:\d|@|<)).{6,240}(?<![.!?])$", re.I
)
_SEPARATOR = re.compile(
    r"^[\s*]*[-=_]{2,}\s*(?:original message|original-nachricht|ursprüngliche nachricht|"
    r"message d'origine|message original|mensaje original|messaggio originale|"
    r"oorspronkelijk bericht|origineel bericht|mensagem original|oryginalna wiadomość|"
    r"wiadomość oryginalna|forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|"
    r"reply message|antwort)\s*[-=_]*\s*$|^_{8,}\s*$|^-{8,}\s*$",
    re.I,
)
# Field names of a quoted header block, per language.
_FROM_FIELD = r"from|von|de|da|van|od|från|fra|от"
_OTHER_FIELD = (
    r"sent|date|to|cc|subject|gesendet|datum|an|kopie|betreff|envoyé|envoye|date|à|a|objet|"
    r"enviado|fecha|para|asunto|inviato|data|oggetto|verzonden|aan|onderwerp|verstuurd|"
    r"assunto|wysłano|wysłane|do|temat|dw|skickat|till|ämne|sendt|emne"
)
_HEADER_LINE = re.compile(
    r"^[\s>]*\*?(?:" + _FROM_FIELD + "|" + _OTHER_FIELD + r")\s?\*?\s?:\s?\*?\s*\S", re.I
)
_FROM_LINE = re.compile(r"^[\s>]*\*?(?:" + _FROM_FIELD + r")\s?\*?\s?:\s?\*?\s*\S", re.I)
_FOOTER = re.compile(
    r"^[\s*]*(?:sent from (?:my|mail|yahoo|outlook|samsung)\b.*|sent (?:via|with|using) .{1,60}|"
    r"get outlook for \S.*|von meinem \S.{0,40} gesendet.*|gesendet (?:von|mit) (?:meinem )?\S.*|"
    r"envoyé (?:de|depuis) (?:mon|ma)\b.*|enviado (?:desde|de|do) (?:mi|meu|o meu)\b.*|"
    r"inviato da\b.*|verzonden (?:vanaf|met) (?:mijn)?\b.*|wysłane z\b.*|"
    r"skickat från\b.*)\s*$",
    re.I,
)
_SIGNATURE = re.compile(r"^(?:--|-- |—|__)\s*$")
# The first line of a legal notice under a signature (confidentiality, company register).
_NOTICE = re.compile(
    r"^[\s*]*(?:confidential(?:ity)?(?: notice)?\b|disclaimer\b|this (?:e-?mail|message|"
    r"communication)(?: and any (?:files|attachments?))? (?:is|are|may|contains?)\b|"
    r"the information (?:contained )?in this (?:e-?mail|message)|"
    r"diese (?:e-?mail|nachricht) (?:enthält|ist|kann)\b|vertraulichkeitshinweis|pflichtangaben|"
    r"sitz der gesellschaft|registergericht|amtsgericht\b|geschäftsführer(?:in)?:|"
    r"ce (?:message|courriel|e-?mail)(?: et (?:ses|toutes) (?:pièces jointes|annexes))? "
    r"(?:est|sont|peut|contient)\b|avis de confidentialité|"
    r"este (?:mensaje|correo)(?: y sus anexos)? (?:es|contiene|puede|va dirigido)\b|"
    r"aviso (?:legal|de confidencialidad)|questo messaggio (?:è|e|contiene|può)\b|"
    r"dit (?:bericht|e-?mailbericht) (?:is|bevat|kan)\b|"
    r"esta mensagem (?:é|contém|pode)\b|ta wiadomość (?:jest|zawiera|może)\b|"
    r"please consider the environment|bitte denken sie an die umwelt)",
    re.I,
)
# A line that is only a closing (optionally followed by a name on the same line).
_CLOSING = re.compile(
    r"^[\s*]*(?:(?:best|kind|warm|many|with|warmest|kindest)\s+(?:regards|wishes|thanks)|"
    r"regards|cheers|thanks(?: again| so much| a lot)?|thank you|many thanks|best|all the best|"
    r"sincerely|yours(?: sincerely| truly)?|talk soon|"
    r"mit freundlichen grüßen|mit freundlichem gruß|freundliche grüße|viele grüße|beste grüße|"
    r"liebe grüße|herzliche grüße|schöne grüße|grüße|gruß|vg|lg|mfg|danke|vielen dank|"
    r"cordialement|bien cordialement|bien à vous|salutations|merci|"
    r"saludos(?: cordiales)?|un saludo|atentamente|gracias|"
    r"cordiali saluti|distinti saluti|saluti|grazie|"
    r"met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|groeten|groet|bedankt|"
    r"atenciosamente|cumprimentos|abraços|obrigad[oa]|"
    r"pozdrawiam|z poważaniem|dziękuję)[\s,.!]*(?:[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)?)?\s*$",
    re.I,
)
_SENTENCE = re.compile(r"^(?:\S+\s+){3,}\S+[.!?]$")  # four words or more, then . ! or ?
_SCAN_LIMIT = 200_000  # characters: a reply's new text is never further down than this
_QUOTED = re.compile(r"^\s*(?:>|\|(?=\s|$))")


def _attribution_at(lines: list[str], index: int) -> int:
    """How many lines (1–3) form an attribution starting at `index`, else 0."""
    first = lines[index].strip()
    if not first or len(first) > 400:
        return 0
    if _ATTRIBUTION.match(first):
        return 1
    if not _ATTRIBUTION_START.match(first):
        return 0
    joined = first
    for extra in range(1, 3):  # a client wrapped the attribution at ~72 characters
        if index + extra >= len(lines) or not lines[index + extra].strip():
            return 0
        joined += " " + lines[index + extra].strip()
        if _ATTRIBUTION.match(joined):
            return extra + 1
    return 0


def _header_block_at(lines: list[str], index: int) -> bool:
    """A quoted message's header block (From: plus another field within the next lines)."""
    if not _FROM_LINE.match(lines[index]) and not (
        _HEADER_LINE.match(lines[index]) and _header_follows(lines, index, need_from=True)
    ):
        return False
    return _header_follows(lines, index, need_from=False)


def _header_follows(lines: list[str], index: int, *, need_from: bool) -> bool:
    seen = 0
    for line in lines[index + 1 : index + 6]:
        if not line.strip():
            continue
        if need_from and _FROM_LINE.match(line):
            return True
        if not need_from and _HEADER_LINE.match(line):
            seen += 1
            if seen >= 1:
                return True
        elif not need_from:
            # a wrapped long To:/Cc: value continues on the next line
            continue
    return False


def _signature_follows(lines: list[str], index: int) -> bool:
    """After a closing: a name/title/phone block, not more sentences ("Thanks\nWe'll pass.")."""
    block: list[str] = []
    for line in lines[index : index + 12]:
        if not line.strip():
            if block:
                break
            continue
        if _QUOTED.match(line) or _SIGNATURE.match(line.rstrip()) or _FOOTER.match(line.strip()):
            break
        block.append(line.strip())
    if len(block) > 6:
        return False
    return not any(_SENTENCE.search(line) for line in block)


def _cut(lines: list[str], *, closings: bool) -> tuple[int, str]:
    """Index of the first line of quoted history or signature, and what it was."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _QUOTED.match(line):
            return index, "quote"
        if _attribution_at(lines, index):
            return index, "attribution"
        if _SEPARATOR.match(stripped):
            return index, "separator"
        if _header_block_at(lines, index):
            return index, "header block"
        if _SIGNATURE.match(line.rstrip("\n")):
            return index, "signature"
        if _FOOTER.match(stripped):
            return index, "footer"
        if _NOTICE.match(stripped) and any(s.strip() for s in lines[:index]):
            return index, "legal notice"
        if (
            closings
            and _CLOSING.match(stripped)
            and any(s.strip() for s in lines[:index])
            and _signature_follows(lines, index + 1)
        ):
            return index, "closing"
    return len(lines), ""


def _drop_quotes(lines: list[str]) -> list[str]:
    """Lines that are not quoted and not the attribution of a quote (for bottom-posting)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        if _QUOTED.match(lines[index]):
            index += 1
            continue
        span = _attribution_at(lines, index)
        if span:
            index += span
            continue
        kept.append(lines[index])
        index += 1
    return kept


def new_text(text: str) -> str:
    """What the person wrote in this message, without quoted history or signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    lines = text[:_SCAN_LIMIT].split("\n")
    end, _ = _cut(lines, closings=True)
    fresh = lines[:end]
    if not any(line.strip() for line in fresh):
        # Bottom-posted or interleaved: the person's lines are among or below the quote.
        rest = _drop_quotes(lines[end:])
        again, _ = _cut(rest, closings=True)
        fresh = rest[:again]
        if not any(line.strip() for line in fresh):
            # Only a closing or signature line was written ("Thanks!"): keep it.
            fresh = [line for line in rest if line.strip()][:1]
    return "\n".join(line.rstrip() for line in fresh).strip()


_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: never in real text
_BLOCKQUOTE_TAG = re.compile(r"<(/?)blockquote\b[^<>]{0,2000}>", re.I)


def html_with_quotes(markup: str) -> str:
    """HTML as text, with `> ` before every line inside a <blockquote> (any depth).

    HTML-only replies mark their quoted history with <blockquote> (Gmail's `gmail_quote`,
    Apple Mail's `type="cite"`, Thunderbird's `moz-cite-prefix`), not with `>` characters.
    """

    def marker(found: re.Match[str]) -> str:
        return f"\n{_CLOSE if found.group(1) else _OPEN}\n"

    text = html_to_text(_BLOCKQUOTE_TAG.sub(marker, markup[:_SCAN_LIMIT]))
    depth, out = 0, []
    for line in text.split("\n"):
        if line.strip() == _OPEN:
            depth += 1
        elif line.strip() == _CLOSE:
            depth = max(0, depth - 1)
        else:
            out.append("> " * depth + line if depth and line.strip() else line)
    return "\n".join(out)
