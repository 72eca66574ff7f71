import type { DeliveryAssignment } from '@aerie/contracts';
import type { OutboxDraft, SagaState } from '../domain/saga.js';
import type { OutboxSource } from '../domain/outbox.js';
import type { Account, Package } from './records.js';

export interface Page {
  /** Keyset: strictly after this id. */
  after?: string;
  limit: number;
}

export interface AccountStore {
  /** Insert-if-absent: false when the id exists (the caller compares). */
  insertAccount(a: Account): Promise<boolean>;
  getAccount(id: string): Promise<Account | null>;
  /** Ordered by id; `businessId` lists one business's customers. */
  listAccounts(filter: { businessId?: string }, page: Page): Promise<Account[]>;
}

export interface PackageStore {
  insertPackage(p: Package): Promise<boolean>;
  getPackage(id: string): Promise<Package | null>;
  /** Ordered by id; `owners` limits to those accounts. */
  listPackages(filter: { owners?: readonly string[] }, page: Page): Promise<Package[]>;
  packageOfDelivery(deliveryId: string): Promise<Package | null>;
  /** The packages bound to these deliveries (one query), by delivery id. */
  packagesOfDeliveries(deliveryIds: readonly string[]): Promise<Map<string, Package>>;
  /** Binds a package to a delivery: true when unbound or already bound to it, false when bound to another. */
  bindPackage(id: string, deliveryId: string): Promise<boolean>;
  /** Undoes `bindPackage` (a no-op when bound elsewhere or not at all). */
  unbindPackage(id: string, deliveryId: string): Promise<void>;
}

/**
 * The saga's durable state, its outbox and the drone reservations, in one store so a state
 * change and its events commit in one transaction.
 */
export interface SagaStore extends OutboxSource {
  /** Insert-if-absent (the saga id is the delivery id): false when it exists. */
  createSaga(s: SagaState): Promise<boolean>;
  getSaga(id: string): Promise<SagaState | null>;
  /**
   * Writes `next` only over version `next.version - 1` (another runner did not move it first),
   * and appends `events` (an event id already there is kept, not duplicated) — one transaction.
   */
  saveSaga(next: SagaState, events: readonly OutboxDraft[]): Promise<boolean>;
  /** Running or compensating sagas due at `now`, oldest first. */
  dueSagas(now: number, limit: number): Promise<SagaState[]>;
  /** Every saga not yet completed or failed, for the Supervisor at start. */
  unfinishedSagas(limit: number): Promise<SagaState[]>;
  /**
   * Several instances on one database (PostgreSQL): the lease that lets one instance drive saga
   * `id` until `until`. True when `owner` holds it now (taken: free, expired, or already its own;
   * renewed to `until`), false while another instance's lease runs. Absent: a store only one
   * process opens (SQLite, memory), where every saga is this process's.
   */
  claimSaga?(id: string, owner: string, now: number, until: number): Promise<boolean>;
  /** Gives the lease back (shutdown), so another instance takes the saga over without waiting out the expiry. */
  releaseSagas?(owner: string): Promise<void>;
  /**
   * Claims `droneId` for `holder` (a delivery id): true when free or already held by `holder`.
   * A drone has at most one holder, enforced by the store (a primary key), whatever runs at once.
   */
  reserveDrone(droneId: string, holder: string, now: number): Promise<boolean>;
  /** Frees the drone if `holder` holds it. */
  releaseDrone(droneId: string, holder: string): Promise<void>;
  reservations(): Promise<{ droneId: string; holder: string }[]>;
  /** The drone `holder` holds, if any (a holder holds at most one: the store enforces it too). */
  heldBy(holder: string): Promise<string | null>;
}

/** The hub's answer to a dispatched assignment (contracts' DispatchReply, as the saga needs it). */
export type HubAnswer =
  | { outcome: 'accepted' }
  | { outcome: 'refused'; reason: string; detail: string; mavResult: string | null };

/** The hub as the saga sees it: sends a mission down, tells what the hub answered, or aborts it. */
export interface MissionHub {
  /** Sends the assignment; idempotent per delivery (the hub answers a repeat the same way). */
  dispatch(a: DeliveryAssignment): Promise<void>;
  /**
   * The hub's answer to assignment `a` dispatched at `since`, null while none has come. Once
   * `deadline` has passed without one, `a` is sent again and the call rejects (transient,
   * DLV_SAGA_HUB_NO_REPLY). Never waits: the saga waits durably, woken by `onAnswer`.
   */
  answer(a: DeliveryAssignment, since: number, deadline: number): Promise<HubAnswer | null>;
  /** Abort the mission and bring the drone home; a no-op for a mission never sent. */
  abort(a: DeliveryAssignment): Promise<void>;
  /** Tells the workflow an answer came for a delivery, so its saga runs now rather than at its next try. */
  onAnswer?(listener: (deliveryId: string) => void): void;
}

export interface WorkflowStore extends AccountStore, PackageStore, SagaStore {
  close(): Promise<void>;
}
