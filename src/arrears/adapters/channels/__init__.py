"""The channels messages go out through: e-mail over SMTP, text messages over SMPP."""
