// Independent SMART Health Links client for the interop tests of share/shl.
// It uses no healthwallet code: links are read by Medplum's
// parseSmartHealthLink, files are (de)crypted by the jose library, and the
// manifest protocol is plain fetch following the specification's steps.
//
//   node open-shl.mjs parse LINK                  print the payload as JSON
//   node open-shl.mjs decrypt KEY JWE_FILE        print the plaintext
//   node open-shl.mjs encrypt KEY CTY FILE        print a compact JWE (alg dir, enc A256GCM)
//   node open-shl.mjs open LINK PASSCODE RECIPIENT [EMBEDDED_MAX]
//        POST the manifest (or GET a U link), GET each location, decrypt;
//        print {"files":[{"contentType","text"}]}. Exit 3 on 401 (printing
//        {"remainingAttempts":N,"error":…}), 4 on 404, 1 on anything else.
//
// HTTPS trust comes from NODE_EXTRA_CA_CERTS (a PEM with the test CA).
import { readFileSync } from 'node:fs';
import { parseSmartHealthLink } from '@medplum/core';
import { base64url, compactDecrypt, CompactEncrypt } from 'jose';

const MAX_PLAIN = 20 << 20; // share/shl.MaxPlain

function keyBytes(key) {
  const k = base64url.decode(key);
  if (k.length !== 32) throw new Error(`key is ${k.length} bytes, want 32`);
  return k;
}

async function decrypt(key, jwe) {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe.trim(), keyBytes(key), {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
    maxDecompressedLength: MAX_PLAIN,
  });
  return { cty: protectedHeader.cty, plaintext };
}

class HTTPError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function check(resp) {
  if (resp.ok) return resp;
  let body = {};
  try { body = await resp.json(); } catch { /* not JSON */ }
  throw new HTTPError(resp.status, body);
}

async function open(link, passcode, recipient, embeddedMax) {
  const p = parseSmartHealthLink(link);
  if (p.exp && p.exp * 1000 < Date.now()) throw new Error('link expired');
  const flags = p.flag ?? '';
  if (flags.includes('U')) {
    const u = new URL(p.url);
    u.searchParams.set('recipient', recipient);
    const jwe = await (await check(await fetch(u))).text();
    const f = await decrypt(p.key, jwe);
    return { files: [{ contentType: f.cty ?? '', text: new TextDecoder().decode(f.plaintext) }] };
  }
  const req = { recipient };
  if (flags.includes('P')) req.passcode = passcode;
  if (embeddedMax) req.embeddedLengthMax = Number(embeddedMax);
  const resp = await check(await fetch(p.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req),
  }));
  const manifest = await resp.json();
  const files = [];
  for (const file of manifest.files) {
    const jwe = file.embedded ?? await (await check(await fetch(file.location))).text();
    const f = await decrypt(p.key, jwe);
    files.push({ contentType: file.contentType, text: new TextDecoder().decode(f.plaintext) });
  }
  return { files };
}

async function main(argv) {
  const [mode, ...args] = argv;
  switch (mode) {
    case 'parse':
      process.stdout.write(JSON.stringify(parseSmartHealthLink(args[0])) + '\n');
      return 0;
    case 'decrypt': {
      const f = await decrypt(args[0], readFileSync(args[1], 'utf8'));
      process.stdout.write(f.plaintext);
      return 0;
    }
    case 'encrypt': {
      const jwe = await new CompactEncrypt(readFileSync(args[2]))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: args[1] })
        .encrypt(keyBytes(args[0]));
      process.stdout.write(jwe + '\n');
      return 0;
    }
    case 'open':
      try {
        const out = await open(args[0], args[1] ?? '', args[2] ?? 'shl-node', args[3]);
        process.stdout.write(JSON.stringify(out) + '\n');
        return 0;
      } catch (e) {
        if (e instanceof HTTPError && e.status === 401) {
          process.stdout.write(JSON.stringify({ remainingAttempts: e.body.remainingAttempts, error: e.body.error }) + '\n');
          return 3;
        }
        if (e instanceof HTTPError && e.status === 404) {
          process.stdout.write(JSON.stringify({ error: e.body.error ?? 'not found' }) + '\n');
          return 4;
        }
        throw e;
      }
    default:
      process.stderr.write('usage: open-shl.mjs parse LINK | decrypt KEY JWE_FILE | encrypt KEY CTY FILE | open LINK PASSCODE RECIPIENT [EMBEDDED_MAX]\n');
      return 2;
  }
}

// exitCode, not process.exit(): stdout to a pipe is asynchronous and must
// drain before Node exits.
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`open-shl: ${e.message}\n`); process.exitCode = 1; },
);
