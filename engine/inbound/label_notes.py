"""Labels of the shared corpora that we believe are wrong after reading the message.

The corpora's READMEs ask for this: where a label looks wrong, say so rather than bending the
code to it. `kadenz inbound accuracy` reports every figure both without these and as labelled.
Keyed by source folder name, then by file.
"""

from __future__ import annotations

_USER_UNKNOWN = (
    "the server's own words say the address does not exist ({!r}); Sisimai calls it "
    "'{}' (rejected by a recipient-side filter, or after DATA) which the README maps to "
    "{}, but for a sender the address is dead: we classify hard_bounce and suppress it"
)


def _unknown(phrase: str, reason: str = "filtered", label: str = "blocked") -> str:
    return _USER_UNKNOWN.format(phrase, reason, label)


SISIMAI: dict[str, str] = {
    "lhost-activehunter-02.eml": _unknown("User unknown in local recipient table"),
    "lhost-amazonses-02.eml": _unknown("Unknown user this-local-part-does-not-exist"),
    "lhost-amazonworkmail-02.eml": _unknown("5.2.1 ... User Unknown"),
    "lhost-apachejames-01.eml": _unknown("no such user here"),
    "lhost-courier-02.eml": _unknown("550 Unknown user"),
    "lhost-exchange2003-04.eml": _unknown("Recipient Not Found"),
    "lhost-mailfoundry-01.eml": _unknown("No such user here"),
    "lhost-mailru-07.eml": _unknown("550 : User unknown"),
    "lhost-mcafee-01.eml": _unknown("550 Unknown user"),
    "lhost-mcafee-04.eml": _unknown("No such user"),
    "lhost-mcafee-05.eml": _unknown("User not exist"),
    "lhost-messagingserver-03.eml": _unknown("550 User Unknown"),
    "lhost-messagingserver-06.eml": _unknown("5.2.1 ... User Unknown"),
    "lhost-messagingserver-08.eml": _unknown("550 : User unknown"),
    "lhost-mfilter-01.eml": _unknown("550 unknown user"),
    "lhost-mfilter-03.eml": _unknown("No such user"),
    "lhost-mxlogic-03.eml": _unknown("550 unknown user"),
    "lhost-office365-04.eml": _unknown("unknown recipient ... 550 : User unknown"),
    "lhost-postfix-03.eml": _unknown("550 Unknown user"),
    "lhost-postfix-07.eml": _unknown("550 <…>: User unknown"),
    "lhost-postfix-35.eml": _unknown("550 : User unknown"),
    "lhost-sendmail-19.eml": _unknown("550 Unknown user"),
    "lhost-sendmail-27.eml": _unknown("User unknown"),
    "lhost-sendmail-40.eml": _unknown("550 Unknown user"),
    "lhost-sendmail-48.eml": _unknown("Recipient address rejected: User unknown"),
    "lhost-sendmail-50.eml": _unknown("550 : User unknown"),
    "lhost-sendmail-51.eml": _unknown("550 : User unknown"),
    "lhost-surfcontrol-01.eml": _unknown("No such user"),
    "lhost-x1-01.eml": _unknown("User unknown"),
    "lhost-x1-02.eml": _unknown("User unknown"),
    "lhost-x2-01.eml": _unknown("This user doesn't have a ... account"),
    "lhost-x2-02.eml": _unknown("This user doesn't have a ... account"),
    "lhost-yahoo-06.eml": _unknown("User unknown"),
    "lhost-zoho-02.eml": _unknown("Invalid Address ... User Unknown"),
    "lhost-zoho-03.eml": _unknown("User unknown"),
    "rfc3464-42.eml": _unknown("The email account that you tried to reach does not exist"),
    "rfc3464-57.eml": _unknown("550 : User unknown"),
    "rhost-nttdocomo-01.eml": _unknown("550 Unknown user"),
    "rhost-nttdocomo-02.eml": _unknown("550 Unknown user", "rejected"),
    "rhost-nttdocomo-03.eml": _unknown("550 Unknown user", "rejected"),
    "lhost-ezweb-02.eml": _unknown("550 user unknown (in reply to RCPT TO)", "suspend", "soft"),
    "lhost-powermta-01.eml": _unknown("550 5.2.1 ... User Unknown", "suspend", "soft"),
    "lhost-powermta-03.eml": _unknown("550 5.2.1 ... User Unknown", "suspend", "soft"),
    "rfc3464-01.eml": (
        "labelled soft_bounce/mailboxfull, but the DSN says Status 5.1.1 and "
        "'550 5.1.1 <userunknown@...>... User Unknown': a hard bounce"
    ),
    "lhost-postfix-05.eml": (
        "labelled hard_bounce, but the server answered 450 4.1.1: a temporary (4xx) reply "
        "is a soft bounce by our rules; we do not suppress on a deferral"
    ),
    "lhost-sendmail-14.eml": (
        "a person forwarded a bounce ('Fwd: Returned mail', From a human, every line quoted "
        "with '>'): it is a human reply for someone to read, not a bounce report"
    ),
}


PUBLIC_BOUNCEPARSER: dict[str, str] = {}
PUBLIC_FLUFL: dict[str, str] = {}

DISPUTED: dict[str, dict[str, str]] = {
    "sisimai": SISIMAI,
    "bounceparser": PUBLIC_BOUNCEPARSER,
    "flufl-testdata": PUBLIC_FLUFL,
}
