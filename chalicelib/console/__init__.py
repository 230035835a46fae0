"""The merchant console (issue 12): server-rendered pages over the ops API and settings.

Modules, one job each: `shopify_jwt` (App Bridge session tokens, pure), `session` (signed
cookie and CSRF tokens, pure), `roles` (who may do what, pure), `users` (per-user keys,
item kind USERKEY), `auth` (request -> principal), `queue`, `case_view`, `case_sms`,
`settings_view`, `try_it`, `messages`, `insights` (each view's data and actions), `i18n`
(en / zh-CN words), `assets` (hashed static files), `pages` (Jinja2 rendering, headers) and
`http` (what each route does; app.py only adapts Chalice to it).
"""
