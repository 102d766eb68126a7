"""Strings that must never turn into markup, wherever they are shown."""

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "javascript:alert(1)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg/onload=alert(1)>",
    "</td></tr></table><script>alert(1)</script>",
    "&lt;script&gt;",
]
