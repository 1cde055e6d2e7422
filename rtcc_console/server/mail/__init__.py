"""Owner e-mail: the durable outbox's SMTP sender (``sender.Mailer``)."""
