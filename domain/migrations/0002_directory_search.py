"""Trigram indexes for the contributor picker's case-insensitive search (PostgreSQL only).

The directory filters by ``UPPER(CAST(name AS VARCHAR)) LIKE UPPER('%...%')`` (Tortoise's
``icontains``); GIN indexes over the same expressions with ``gin_trgm_ops`` answer it without
reading every user. SQLite, the embedded backend, searches without an index.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "app_user_name_trgm": ("app_user", "name"),
    "app_user_email_trgm": ("app_user", "email"),
    "team_name_trgm": ("team", "name"),
}


class RunSQLOnPostgres(ops.RunSQL):
    """RunSQL that does nothing on other databases."""

    @staticmethod
    def _applies(state_editor) -> bool:
        return state_editor is not None and state_editor.client.capabilities.dialect == "postgres"

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if self._applies(state_editor):
            await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if self._applies(state_editor):
            await super().database_backward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        RunSQLOnPostgres(
            [
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                *(
                    f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" '
                    f'USING gin (upper("{column}"::varchar) gin_trgm_ops)'
                    for index, (table, column) in INDEXES.items()
                ),
            ],
            reverse_sql=[f'DROP INDEX IF EXISTS "{index}"' for index in INDEXES],
        ),
    ]
