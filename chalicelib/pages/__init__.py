"""Customer pages (issue 11): the self-service return portal (`/r/{slug}`) and the order
status page (`/s/{token}`). Server-rendered Jinja2, no script; each module has one job:

- `web`: the request/reply shapes the routes in app.py hand over, security headers;
- `signing`, `csrf`: HMAC keys, the lookup session cookie and the CSRF token bound to it;
- `ratelimit`: the conditional counters that slow down order-number guessing;
- `lookup`: slug -> merchant, order number + contact -> order (constant-time compare);
- `portal`, `status`: the two pages' use cases; `views`: a return as both pages show it;
- `photos`: checked uploads; `i18n`, `qr`, `render`: words (en, zh-CN), QR SVG, HTML.
"""
