from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_pace_records_live')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Account',
            name='data_version',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AlterModelOptions(
            name='LiveProgress',
            options={'table': 'live_progress', 'app': 'models', 'pk_attr': 'account_id'},
        ),
    ]
