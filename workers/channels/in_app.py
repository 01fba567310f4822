"""In-app notifications are the outbox rows themselves, listed by ``viewer.notifications``."""

from domain.models import Notification
from domain.settings import Settings


async def send(notification: Notification, settings: Settings) -> None:
    """Nothing leaves the service: marking the row SENT is the whole delivery."""
    return None
