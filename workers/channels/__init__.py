"""How a notification leaves the service: in-app (the row itself), email, webhook."""


class PermanentDeliveryError(Exception):
    """Retrying cannot help (a refused address, a rejected request): the row fails at once."""
