// Verifies `grant --json` output with viem, as printed: reads the JSON file
// named by the first argument and prints whether its signature verifies for
// the address given as the second, the address viem recovers, and viem's
// EIP-712 hash. It checks twice: with the types as printed, and the way
// viem's own API is used (types without EIP712Domain, which viem then
// derives from the fields present in the domain). Exits non-zero when viem
// refuses the typed data, or the two disagree.
import { readFileSync } from 'node:fs'
import { hashTypedData, recoverTypedDataAddress, verifyTypedData } from 'viem'

const { typedData, signature } = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const { EIP712Domain, ...types } = typedData.types
const asPrinted = {
  domain: typedData.domain,
  types: typedData.types,
  primaryType: typedData.primaryType,
  message: typedData.message,
  signature,
}
const derived = { ...asPrinted, types }
const results = []
for (const args of [asPrinted, derived]) {
  results.push({
    ok: await verifyTypedData({ address: process.argv[3], ...args }),
    recovered: await recoverTypedDataAddress(args),
    hash: hashTypedData(args),
  })
}
if (JSON.stringify(results[0]) !== JSON.stringify(results[1])) {
  console.error('viem disagrees with itself:', JSON.stringify(results))
  process.exit(1)
}
console.log(JSON.stringify(results[0]))
