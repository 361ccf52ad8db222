import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, Option } from 'commander';
import pino from 'pino';
import { createContext, LOG_REDACT_PATHS, type AppContext } from './context.ts';
import { migrateToLatest } from './db/database.ts';
import { AppError } from './lib/errors.ts';
import { randomToken } from './lib/tokens.ts';
import { loadDemo } from './demo.ts';
import { loadConfigOrExit, startCluster, startServer, startWorker } from './server.ts';

/** A context for one CLI command: logs go to stderr so stdout carries only the command's output. */
async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const log = pino({ level: 'warn', redact: LOG_REDACT_PATHS }, pino.destination(2));
  const ctx = createContext(config, { log });
  try {
    if (config.migrateOnStart) await migrateToLatest(ctx.db);
    return await run(ctx);
  } finally {
    await ctx.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const program = new Command()
  .name('undersign')
  .description('Undersign petition platform. Uses the same environment variables as the site (see README).')
  .showHelpAfterError();

program
  .command('serve')
  .description('Start the website (and, unless --no-worker, the job worker in the same process)')
  .option('--no-worker', 'do not run the job worker here (run `undersign worker` separately)')
  .option('--workers <n>', 'run this many web processes on the port (Node cluster; use with PostgreSQL)', (v) => Number.parseInt(v, 10))
  .action(async (opts: { worker: boolean; workers?: number }) => {
    const config = loadConfigOrExit();
    if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 64)) {
      throw new AppError('validation_failed', '--workers must be a whole number from 1 to 64');
    }
    if (opts.workers && opts.workers > 1) await startCluster(config, { processes: opts.workers, withWorker: opts.worker });
    else await startServer(config, { withWorker: opts.worker });
  });

program
  .command('worker')
  .description('Run the job worker alone: sends email and runs queued jobs')
  .action(async () => {
    await startWorker(loadConfigOrExit());
  });

program
  .command('migrate')
  .description('Apply pending database migrations')
  .action(async () => {
    const config = loadConfigOrExit();
    const ctx = createContext({ ...config, migrateOnStart: false }, { log: pino({ level: 'warn' }, pino.destination(2)) });
    try {
      const result = await migrateToLatest(ctx.db);
      const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
    } finally {
      await ctx.close();
    }
  });

program
  .command('demo')
  .description('Load the campaign of the story (a complete petition, 1,804 signatures, hand-in and response) into an empty database')
  .action(async () => {
    const config = loadConfigOrExit();
    const log = pino({ level: 'warn' }, pino.destination(2));
    const migrating = createContext(config, { log });
    try {
      await migrateToLatest(migrating.db);
    } finally {
      await migrating.close();
    }
    try {
      const demo = await loadDemo(config, log);
      console.log(`Demo loaded: ${config.baseUrl}/petitions/${demo.slug}`);
      for (const a of demo.accounts) console.log(`Sign in as ${a.email} / ${a.password} (${a.role})`);
    } catch (err) {
      process.stderr.write(`undersign: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

const signer = program.command('signer').description('Data-subject requests about a signer, by email address');
signer
  .command('export')
  .description('Print, as JSON, everything held about the signatures given with an email address')
  .requiredOption('--email <email>', 'the signer’s email address')
  .action(async (opts: { email: string }) => {
    await withContext(async (ctx) => {
      const data = await ctx.services.signatures.exportPersonalData(opts.email);
      await ctx.repositories.audit.append({ actorId: null, petitionId: null, action: 'privacy.subject_export', details: { signatures: data.length } }, ctx.clock());
      console.log(JSON.stringify({ email: opts.email, signatures: data }, null, 2));
    });
  });
signer
  .command('erase')
  .description('Delete every signature given with an email address (the counts go down with them)')
  .requiredOption('--email <email>', 'the signer’s email address')
  .option('--yes', 'do it (without --yes, only says what would be erased)')
  .action(async (opts: { email: string; yes?: boolean }) => {
    await withContext(async (ctx) => {
      const found = await ctx.services.signatures.exportPersonalData(opts.email);
      if (!opts.yes) {
        console.log(`${found.length} signature(s) would be erased. Run again with --yes to erase them.`);
        return;
      }
      const erased = await ctx.services.signatures.erasePersonalData(opts.email);
      await ctx.repositories.audit.append({ actorId: null, petitionId: null, action: 'privacy.subject_erasure', details: { signatures: erased } }, ctx.clock());
      console.log(`Erased ${erased} signature(s).`);
    });
  });

const user = program.command('user').description('Manage staff accounts (campaigners and admins)');
user
  .command('create')
  .description('Create an account. Without --password-stdin a password is generated and printed once.')
  .requiredOption('--email <email>', 'email address used to sign in')
  .requiredOption('--name <name>', 'name shown to other staff')
  .option('--admin', 'make the account an administrator (moderates, and can open and manage any petition)')
  .option('--moderator', 'make the account a moderator (works the moderation queue)')
  .addOption(new Option('--password-stdin', 'read the password from standard input'))
  .action(async (opts: { email: string; name: string; admin?: boolean; moderator?: boolean; passwordStdin?: boolean }) => {
    const generated = !opts.passwordStdin;
    const password = opts.passwordStdin ? await readStdin() : randomToken(15);
    await withContext(async (ctx) => {
      const created = await ctx.services.users.createUser({
        email: opts.email,
        name: opts.name,
        password,
        role: opts.admin ? 'admin' : opts.moderator ? 'moderator' : 'campaigner',
      });
      console.log(`Created ${created.role} ${created.email} (id ${created.id}).`);
      if (generated) console.log(`Password (shown once): ${password}`);
    });
  });

const geo = program.command('geo').description('UK areas from the Office for National Statistics: postcodes, names, populations and boundaries');
geo
  .command('import')
  .description(
    'Import ONS CSV files, told apart by their header: the Postcode Directory (ONSPD) or National Statistics Postcode Lookup (NSPL), ' +
      'the "names and codes" files that come with them, and population estimates (a code and a population column). Re-run to update.',
  )
  .argument('<files...>', 'CSV files, in any order')
  .action(async (files: string[]) => {
    await withContext(async (ctx) => {
      for (const file of files) {
        if (!existsSync(file)) throw new AppError('not_found', `No such file: ${file}`);
        const bar = progressBar(basename(file));
        const summary = await ctx.services.geo.importFile(file, bar.update);
        bar.done();
        const areas = Object.entries(summary.areas).map(([kind, n]) => `${n.toLocaleString('en-GB')} ${kind.replace('_', ' ')}`);
        console.log(
          `${basename(file)}: ${summary.file} file, ${summary.rows.toLocaleString('en-GB')} rows, ${summary.imported.toLocaleString('en-GB')} imported, ` +
            `${summary.skipped.toLocaleString('en-GB')} skipped, in ${summary.seconds.toFixed(1)} s` +
            (areas.length ? `; areas: ${areas.join(', ')}` : '') +
            (summary.file === 'postcodes' ? `; petitions with signatures newly placed: ${summary.signaturesPlaced}` : ''),
        );
      }
    });
  });
geo
  .command('boundaries')
  .description('Import area boundaries (GeoJSON or TopoJSON, longitude/latitude or British National Grid) for the maps; areas are matched by ONS code')
  .argument('<file>', 'a .geojson, .json or .topojson file')
  .action(async (file: string) => {
    await withContext(async (ctx) => {
      if (!existsSync(file)) throw new AppError('not_found', `No such file: ${file}`);
      const result = await ctx.services.geo.importBoundaries(file);
      const areas = Object.entries(result.areas).map(([kind, n]) => `${n} ${kind.replace('_', ' ')}`);
      console.log(`${basename(file)}: ${areas.length ? areas.join(', ') : 'no areas'} imported; ${result.skipped} features skipped (no ONS code or not a polygon).`);
    });
  });

program
  .command('stats')
  .description('Recompute petitions\' per-area and hourly counts from their signatures (a repair; normally kept up to date by the worker)')
  .command('rebuild')
  .argument('[slug]', 'one petition (default: all)')
  .action(async (slug?: string) => {
    await withContext(async (ctx) => {
      const ids = slug ? [(await ctx.services.petitions.getForViewer(slug, null)).id] : await ctx.repositories.stats.petitionsWithSignatures();
      for (const id of ids) await ctx.repositories.stats.rebuild(id);
      console.log(`Rebuilt the counts of ${ids.length} petition(s).`);
    });
  });

const signaturesCommand = program.command('signatures').description('Fraud review: take signatures out of a petition’s count, or put them back');
signaturesCommand
  .command('invalidate')
  .description('Invalidate a petition’s signatures chosen by IP address, email domain, time window or numbers (every choice given must match)')
  .requiredOption('--petition <slug>', 'the petition')
  .option('--ip <address>', 'signatures from this IP address')
  .option('--domain <domain>', 'signatures from addresses at this email domain')
  .option('--from <time>', 'signed at or after this time (ISO 8601, e.g. 2026-11-16T14:00Z)')
  .option('--to <time>', 'signed before this time')
  .option('--ids <list>', 'signature numbers, separated by commas')
  .requiredOption('--reason <text>', 'why (kept in the audit log)')
  .option('--yes', 'do it (without --yes, only says how many would be invalidated)')
  .action(async (opts: { petition: string; ip?: string; domain?: string; from?: string; to?: string; ids?: string; reason: string; yes?: boolean }) => {
    await withContext(async (ctx) => {
      const input = { ip: opts.ip, domain: opts.domain, from: opts.from, to: opts.to, ids: opts.ids, reason: opts.reason };
      const petition = await ctx.services.petitions.getAnyBySlug(opts.petition);
      const criteria = ctx.services.fraud.criteria(input);
      const would = await ctx.repositories.fraud.countValid(petition.id, criteria);
      if (!opts.yes) {
        console.log(`${would.signatures} signature(s) would be invalidated (${would.confirmed} confirmed). Run again with --yes to invalidate them.`);
        return;
      }
      const inv = await ctx.services.fraud.invalidateAsOperator(opts.petition, input);
      console.log(`Invalidation ${inv.id}: ${inv.signature_count} signature(s) invalidated, ${inv.confirmed_count} of them confirmed. Undo with: undersign signatures reinstate --invalidation ${inv.id}`);
    });
  });
signaturesCommand
  .command('reinstate')
  .description('Undo an invalidation: its signatures count again as they did before')
  .requiredOption('--invalidation <id>', 'the invalidation number')
  .action(async (opts: { invalidation: string }) => {
    await withContext(async (ctx) => {
      const inv = await ctx.services.fraud.reinstateAsOperator(Number(opts.invalidation));
      console.log(`Invalidation ${inv.id} undone: ${inv.signature_count} signature(s) reinstated.`);
    });
  });

const jobsCommand = program.command('jobs').description('Background work (emails, webhooks): what waits, and given-up jobs queued again');
jobsCommand
  .command('list')
  .description('Each kind of job: waiting, due now, running and given up; then the jobs given up most recently and why')
  .action(async () => {
    await withContext(async (ctx) => {
      const { kinds, givenUp, lastRetried } = await ctx.services.jobs.overviewAsOperator();
      if (kinds.length === 0) console.log('Nothing is waiting, running or given up.');
      for (const k of kinds) {
        const late = k.dueSince ? `, the longest due since ${k.dueSince}` : '';
        console.log(`${k.kind}: ${k.waiting} waiting (${k.due} due now${late}), ${k.running} running, ${k.dead} given up`);
      }
      for (const j of givenUp) console.log(`given up ${j.givenUpAt ?? '?'}: ${j.kind} #${j.id} after ${j.attempts} attempt(s): ${j.error ?? 'no error recorded'}`);
      if (lastRetried) console.log(`last queued again ${lastRetried.at}: ${lastRetried.jobs} job(s) of kind ${lastRetried.kind}, by ${lastRetried.by ?? 'the operator (command line)'}`);
    });
  });
jobsCommand
  .command('retry')
  .description('Queue the given-up jobs of one kind again, due now (once what made them fail is mended)')
  .argument('<kind>', 'the kind of job, as `jobs list` names it (e.g. signature.send_confirmation)')
  .action(async (kind: string) => {
    await withContext(async (ctx) => {
      const retried = await ctx.services.jobs.retryGivenUpAsOperator(kind);
      console.log(`Queued ${retried} given-up job(s) of kind ${kind} again.`);
    });
  });

/** A one-line progress bar on a terminal (nothing when output is piped). */
function progressBar(label: string) {
  const started = Date.now();
  let drawn = 0;
  const tty = process.stderr.isTTY;
  return {
    update: (p: { bytesRead: number; bytesTotal: number; rows: number }) => {
      if (!tty || Date.now() - drawn < 200) return;
      drawn = Date.now();
      const fraction = p.bytesTotal ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
      const width = 30;
      const rate = p.rows / Math.max(0.001, (Date.now() - started) / 1000);
      process.stderr.write(
        `\r${label} [${'='.repeat(Math.round(fraction * width)).padEnd(width)}] ${Math.round(fraction * 100)}% ${p.rows.toLocaleString('en-GB')} rows ${Math.round(rate).toLocaleString('en-GB')}/s`,
      );
    },
    done: () => {
      if (tty) process.stderr.write('\n');
    },
  };
}

const token = program.command('token').description('Manage API tokens');
token
  .command('create')
  .description('Create an API token for an account; the token is printed as the last line')
  .requiredOption('--email <email>', 'the account the token acts as')
  .option('--label <label>', 'what the token is for', 'API token')
  .action(async (opts: { email: string; label: string }) => {
    await withContext(async (ctx) => {
      const account = await ctx.services.users.findByEmail(opts.email);
      if (!account) throw new AppError('not_found', `No account with the email ${opts.email}.`);
      const created = await ctx.services.auth.createApiToken(account, opts.label);
      console.error(`API token for ${account.email}; it is shown only once:`);
      console.log(created);
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof AppError) {
    const fields = Object.entries(err.fields);
    process.stderr.write(`undersign: ${fields.length ? fields.map(([f, m]) => `${f}: ${m}`).join('; ') : err.message}\n`);
    process.exit(1);
  }
  throw err;
}
