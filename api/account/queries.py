import strawberry

from api.context import Info
from api.directory.types import User


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The user the API token belongs to.")
    def viewer(self, info: Info) -> User:
        return User(row=info.context.viewer)
