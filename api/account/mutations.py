import strawberry


@strawberry.type
class AccountMutation:
    @strawberry.mutation
    def noop(self) -> bool:
        return True
