"""Every sentence a person reads, in their language: the message catalogue, i18n and the
rules as an admin reads them."""
