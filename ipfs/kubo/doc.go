// Package kubo uses a stock IPFS node (Kubo, https://github.com/ipfs/kubo)
// as a ciphertext replica of healthwallet objects.
//
// A replica does not check grants. It holds the encrypted blocks of share
// packages and hands them to anyone who asks: only the key wrap protects the
// data there. It sees which CIDs exist and how large they are, and it cannot
// refuse a fetch, so revocation relies on the verifiers, not on the replica.
//
// # Pushing
//
// A [Client] talks to Kubo's RPC API (https://docs.ipfs.tech/reference/kubo/rpc/).
// [Client.Push] exports the DAGs under some roots from an [ipfs.Store] as a
// CAR and uploads it with
//
//	POST /api/v0/dag/import?pin-roots=true
//
// then checks that Kubo reports every root pinned ([ErrNotPinned] if not).
// [Client.Unpin] and [Client.GC] take the copies away again. The RPC API
// is an admin interface: never expose it beyond the machine or a private
// network without Kubo's API.Authorizations; [Client.Authorization] carries
// the matching header.
//
// # Fetching
//
// A [Fetcher] reads a DAG back through a trustless HTTP gateway
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/), Kubo's or any
// other, and trusts none of it: every block is hashed and compared with the
// CID it was asked for, and every block must belong to the DAG being
// fetched. A replica that serves a wrong, foreign or truncated block is
// reported with [ErrBadBlock]; an answer that ends before the DAG is
// complete with [ErrIncomplete]; a block the gateway says it does not have
// with [ipfs.ErrNotFound]. The error names the gateway, so a caller trying
// several providers can say which failed how. Only verified blocks reach the store, so the object is
// then decrypted locally as if it had come from the patient's node.
package kubo
