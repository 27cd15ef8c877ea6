/** CleanupWorker tasks (spec §4.6) and min-ready (§4.5), each a separately callable pass. */
export { type CleanupContext, isolated } from './context';
export { resetLostRequests, type ResetLostRequestsOptions, type ResetLostRequestsResult } from './lost-requests';
export { removeStaleRequestLocks, STALE_REQUEST_LOCK_SECONDS, type RemoveStaleRequestLocksOptions } from './stale-request-locks';
export { removeEmptyNodes } from './empty-nodes';
export { failUnreadableRequests } from './unreadable-requests';
export { deleteOrphanedInitNodes, ORPHAN_INIT_SECONDS, type OrphanInitOptions } from './orphan-init-nodes';
export { deleteOverageReadyNodes, type MaxReadyAgeOptions } from './max-ready-age';
export { deleteExpiredHeldNodes, holdLimit, type HoldExpiryOptions } from './hold-expiry';
export { MinReady, MIN_READY_PRIORITY, MIN_READY_REQUESTOR, labelServedByOurPools, type MinReadyOptions, type MinReadyResult, type MinReadyConfig } from './min-ready';
