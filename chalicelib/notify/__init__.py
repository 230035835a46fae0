"""Customer SMS and ops e-mail: providers, templates, encoding, quiet hours, opt-out, outbox."""
