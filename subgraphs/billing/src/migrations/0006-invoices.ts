import { Migration } from '@mikro-orm/migrations';

export class Migration0006Invoices extends Migration {
  override up(): void {
    this.addSql(`create table "billing_customers" ("account_id" uuid not null, "currency" text not null default 'USD', "stripe_customer_id" text null, "default_payment_method" text null, primary key ("account_id"));`);
    this.addSql(`alter table "billing_customers" add constraint "billing_customers_stripe_customer_id_unique" unique ("stripe_customer_id");`);
    this.addSql(`alter table "billing_customers" add constraint "billing_customers_currency_check" check ("currency" in ('USD', 'EUR', 'GBP'));`);
    this.addSql(`create table "invoice_numbers" ("issuer" text not null, "year" int not null, "last" int not null, primary key ("issuer", "year"));`);
    this.addSql(
      `create table "invoices" ("id" uuid not null, "account_id" uuid not null, "number" text not null, "period_start" timestamptz not null, "period_end" timestamptz not null, "currency" text not null, "lines" jsonb not null, "total_cents" int not null, "status" text not null, "created_at" timestamptz not null, "paid_at" timestamptz null, "stripe_invoice_id" text null, primary key ("id"));`,
    );
    this.addSql(`alter table "invoices" add constraint "invoices_number_unique" unique ("number");`);
    this.addSql(`alter table "invoices" add constraint "invoices_account_id_period_start_unique" unique ("account_id", "period_start");`);
    this.addSql(`alter table "invoices" add constraint "invoices_stripe_invoice_id_unique" unique ("stripe_invoice_id");`);
    this.addSql(`create index "invoices_account_id_created_at_id_index" on "invoices" ("account_id", "created_at", "id");`);
    this.addSql(`alter table "invoices" add constraint "invoices_status_check" check ("status" in ('OPEN', 'PAID'));`);
    this.addSql(`alter table "invoices" add constraint "invoices_total_cents_check" check ("total_cents" >= 0);`);
    // A finalized invoice never changes: only its payment is recorded (OPEN to PAID, once), and
    // the Stripe invoice that collects it is set once. Nothing deletes one.
    this.addSql(`create function "billing"."invoices_immutable"() returns trigger language plpgsql as $$
begin
  if tg_op = 'TRUNCATE' then
    raise exception 'finalized invoices cannot be truncated' using errcode = 'check_violation';
  end if;
  if tg_op = 'DELETE' then
    raise exception 'invoice % is finalized and cannot be deleted', old.number using errcode = 'check_violation';
  end if;
  if (new.id, new.account_id, new.number, new.period_start, new.period_end, new.currency, new.lines, new.total_cents, new.created_at)
     is distinct from (old.id, old.account_id, old.number, old.period_start, old.period_end, old.currency, old.lines, old.total_cents, old.created_at)
     or (old.status = 'PAID' and (new.status <> 'PAID' or new.paid_at is distinct from old.paid_at))
     or (old.stripe_invoice_id is not null and new.stripe_invoice_id is distinct from old.stripe_invoice_id) then
    raise exception 'invoice % is finalized: only its payment may be recorded', old.number using errcode = 'check_violation';
  end if;
  return new;
end $$;`);
    this.addSql(`create trigger "invoices_immutable" before update or delete on "invoices" for each row execute function "billing"."invoices_immutable"();`);
    this.addSql(`create trigger "invoices_no_truncate" before truncate on "invoices" for each statement execute function "billing"."invoices_immutable"();`);
    this.addSql(
      `create table "invoice_collections" ("invoice_id" uuid not null, "account_id" uuid not null, "attempts" int not null default 0, "next_attempt_at" timestamptz null, "first_failed_at" timestamptz null, "last_error" text null, "notified_at" timestamptz null, "overdue_at" timestamptz null, primary key ("invoice_id"));`,
    );
    this.addSql(`create index "invoice_collections_next_attempt_at_index" on "invoice_collections" ("next_attempt_at");`);
    this.addSql(`create index "invoice_collections_account_id_index" on "invoice_collections" ("account_id");`);
    this.addSql(`create table "stripe_events" ("id" text not null, "type" text not null, "received_at" timestamptz not null, primary key ("id"));`);
  }
}
