"""ReportLab locked down before any PDF is built: no fetching of remote resources.

ReportLab opens any URL it meets in markup (``<img src="http://…">`` in a Paragraph), so
text that reached a PDF unescaped could make the server fetch addresses of an attacker's
choosing (CVE-2020-28463, server-side request forgery; PyUp advisory 39642, "all
versions": the fix is configuration, ``trustedHosts``/``trustedSchemes``).  hydrorisk
escapes every text it puts into a Paragraph; this is the second line of defence:
only ``file:`` and ``data:`` resources (our fonts) may be read, no host is trusted.
"""

from __future__ import annotations

#: A host name that cannot resolve (RFC 2606 ``.invalid``): ReportLab then trusts no host.
NO_HOST = "no-remote-resources.invalid"


def lock_down() -> None:
    """Allow ReportLab to read only local files and ``data:`` URLs (idempotent).

    Must run before ReportLab's first resource read, which fixes the policy for the
    process: every PDF builder of :mod:`hydro.services` calls it first.
    """
    from reportlab import rl_config

    rl_config.trustedHosts = [NO_HOST]
    rl_config.trustedSchemes = ["file", "data"]
