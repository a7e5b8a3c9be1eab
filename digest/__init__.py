"""presswatch.digest: the morning briefing and the alerts, and their delivery.

- `briefing`: `build_briefing`, `send_briefing` (archive → send → mark sent, never twice per day and language),
  `preview`;
- `alerts`: `Alerter.from_profile(...)`, `route(clippings)` (one alert per rule and story cluster, claimed in the
  State ledger), `deliver_pending(now)` (email and webhook, quiet hours, retried until delivered);
- `mail`: MIME building, `.eml` files, SMTP delivery with `DeliveryError`;
- `smtpd`: `LoopbackSmtp`, a real SMTP server on 127.0.0.1 for the demo and the tests;
- `i18n` with `locales/*.yaml`, `render` with `templates/*.j2`, `views`, `defaults`.
"""
