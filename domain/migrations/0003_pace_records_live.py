from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.enums import PaceStatus, RecordKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_directory_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LiveProgress',
            fields=[
                ('account', fields.OneToOneField('models.Account', source_field='account_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='live_progress', on_delete=OnDelete.CASCADE)),
                ('record_changes', fields.BigIntField(default=0)),
                ('refreshed_changes', fields.BigIntField(default=0)),
            ],
            options={'table': 'live_progress', 'app': 'models', 'pk_attr': 'account_id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MilestoneRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('milestone', fields.ForeignKeyField('models.Milestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name='kept_records', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='TICKET: TICKET\nDEAL: DEAL\nCALL: CALL\nMEETING: MEETING', enum_type=RecordKind, max_length=8)),
                ('record_id', fields.BigIntField()),
                ('external_id', fields.CharField(max_length=200)),
                ('owner_id', fields.IntField()),
                ('pipeline_id', fields.IntField(null=True)),
                ('counted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('contribution', fields.DecimalField(max_digits=30, decimal_places=6)),
            ],
            options={'table': 'milestone_record', 'app': 'models', 'indexes': [Index(fields=['milestone_id', 'counted_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ContributorGoal',
            name='pace_expected',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=4),
        ),
        ops.AddField(
            model_name='ContributorGoal',
            name='pace_projected',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=4),
        ),
        ops.AddField(
            model_name='ContributorGoal',
            name='pace_ratio',
            field=fields.DecimalField(null=True, max_digits=16, decimal_places=4),
        ),
        ops.AddField(
            model_name='ContributorGoal',
            name='pace_status',
            field=fields.CharEnumField(null=True, description='AHEAD: AHEAD\nON_TRACK: ON_TRACK\nBEHIND: BEHIND\nAT_RISK: AT_RISK', enum_type=PaceStatus, max_length=8),
        ),
        ops.AddField(
            model_name='Goal',
            name='pace_expected',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=4),
        ),
        ops.AddField(
            model_name='Goal',
            name='pace_projected',
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=4),
        ),
        ops.AddField(
            model_name='Goal',
            name='pace_ratio',
            field=fields.DecimalField(null=True, max_digits=16, decimal_places=4),
        ),
        ops.AddField(
            model_name='Goal',
            name='pace_status',
            field=fields.CharEnumField(null=True, description='AHEAD: AHEAD\nON_TRACK: ON_TRACK\nBEHIND: BEHIND\nAT_RISK: AT_RISK', enum_type=PaceStatus, max_length=8),
        ),
    ]
