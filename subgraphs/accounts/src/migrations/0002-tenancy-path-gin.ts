import { Migration } from '@mikro-orm/migrations';

/** A GIN index on `accounts.path`, so subtree look-ups (`path @> array[id]`, `path && array[...]`) use an index. */
export class Migration0002TenancyPathGin extends Migration {
  override up(): void {
    this.addSql(`drop index "accounts_path_index";`);
    this.addSql(`create index "accounts_path_gin_index" on "accounts" using gin ("path");`);
  }
}
