// `npm run accounts:admin`: an operator's account commands (the running accounts service publishes their events).
//   npm run accounts:admin -- suspend <accountId> [reason…]   suspend it (and its sub-accounts); only an operator resumes it
//   npm run accounts:admin -- resume <accountId>              lift a suspension (billing's or an operator's)
//   npm run accounts:admin -- purge                           purge now the deleted accounts whose recovery window is over
//   npm run accounts:admin -- rotate-signing-key              sign access tokens with a new key now (tokens already out keep verifying)
import { z } from 'zod';
import { parseConfig, runMain } from '@listbackup/lib/config';
import { openDatabase } from '@listbackup/lib/db';
import { isUuid } from '@listbackup/lib/ids';
import { database } from './database.ts';
import { purgeDeletedAccounts, resumeAccount, suspendAccount } from './services/account-lifecycle.ts';
import { rotateSigningKey } from './services/tokens.ts';

const Config = z.object({ DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }) });
const USAGE = 'usage: npm run accounts:admin -- suspend <accountId> [reason…] | resume <accountId> | purge | rotate-signing-key';

await runMain(async () => {
  const { DATABASE_URL } = parseConfig(Config);
  const [command, accountId, ...rest] = process.argv.slice(2);
  const global = command === 'purge' || command === 'rotate-signing-key';
  if (!['suspend', 'resume', 'purge', 'rotate-signing-key'].includes(command ?? '') || (!global && !isUuid(accountId ?? ''))) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const orm = await openDatabase({ url: DATABASE_URL, ...database });
  try {
    if (command === 'purge') {
      const purged = await purgeDeletedAccounts(orm);
      console.log(purged.length ? `Purged ${purged.length} account(s): ${purged.join(' ')}` : 'No deleted account is past its recovery window.');
    } else if (command === 'rotate-signing-key') {
      const kid = await rotateSigningKey(orm.em.fork());
      console.log(`Access tokens are signed with key ${kid} from now on (other replicas within 5 minutes); the retired key stays in the JWKS until its tokens expire.`);
    } else if (command === 'suspend') {
      const changed = await suspendAccount(orm, accountId, { by: 'operator', reason: rest.join(' ') || null });
      console.log(changed ? `Suspended ${accountId}.` : `${accountId} was already suspended by an operator.`);
    } else {
      const changed = await resumeAccount(orm, accountId, { by: 'operator' });
      console.log(changed ? `Resumed ${accountId}.` : `${accountId} is not suspended.`);
    }
  } finally {
    await orm.close();
  }
});
