import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import rhea, { type Connection, type EventContext, type Message, type Receiver, type Sender, type Session } from 'rhea';
import { management, putToken, reply, type SasKey } from './control.js';
import { PartitionLog, parseSelector, partitionForKey, type StoredEvent } from './partition-log.js';

export interface EventHubsEmulatorOptions {
  hub: string;
  partitions: number;
  /** Consumer groups besides `$default`; a receiver on any other is refused (amqp:not-found). */
  consumerGroups?: readonly string[];
  /** The namespace key the SAS tokens must be signed with (default: RootManageSharedAccessKey + a random key). */
  sas?: SasKey;
  /** Largest batch a sender may transfer (bytes), announced in the attach as max-message-size. */
  maxMessageBytes?: number;
}

export interface EventHubsEmulator {
  port: number;
  hub: string;
  /** Namespace connection string for the SDK: plain AMQP on loopback (UseDevelopmentEmulator=true). */
  connectionString: string;
  events(partition: number): readonly StoredEvent[];
  /** Receivers attached now, by consumer group and partition ("$default/0"). */
  receivers(): string[];
  /** Receiver attaches so far (a steady count means load balancing has settled). */
  receiverAttaches(): number;
  close(): Promise<void>;
}

const BATCH_FORMAT = 0x80013700; // Event Hubs' batched message format (eventHubSender.js)
const SELECTOR = 'apache.org:selector-filter:string';
const EPOCH = 'com.microsoft:epoch';
const RUNTIME_METRIC = 'com.microsoft:enable-receiver-runtime-metric-name';

interface Reader {
  link: Sender;
  key: string;
  log: PartitionLog;
  next: number;
  epoch: number | undefined;
  runtimeMetric: boolean;
  stop: () => void;
}

/**
 * A local Event Hubs namespace with one hub, speaking AMQP 1.0 to the real @azure/event-hubs
 * client: SASL ANONYMOUS, `$cbs` put-token with SAS signature checks, `$management` READs,
 * senders to the hub or a partition (batches of format 0x80013700), and receivers per consumer
 * group and partition honouring the selector filter, link credit and epochs (owner level).
 * Events live in memory. It stands in for the cloud service, which cannot run here.
 */
export async function startEventHubsEmulator(opts: EventHubsEmulatorOptions): Promise<EventHubsEmulator> {
  const sas = opts.sas ?? { keyName: 'RootManageSharedAccessKey', key: randomBytes(32).toString('base64') };
  const groups = new Set(['$default', ...(opts.consumerGroups ?? [])]);
  const createdAt = new Date();
  const logs = Array.from({ length: opts.partitions }, (_, i) => new PartitionLog(String(i), () => Date.now()));
  const authorised = new WeakMap<Connection, Set<string>>();
  const replyLinks = new WeakMap<Session, Map<string, Sender>>();
  const readers = new Map<Sender, Reader>();
  const sockets = new Set<Socket>();
  let roundRobin = 0;
  let attaches = 0;

  const container = rhea.create_container({ id: `eventhubs-emulator-${opts.hub}` });
  (container.sasl_server_mechanisms as { enable_anonymous(): void }).enable_anonymous();

  /** CBS: a link needs a token whose audience path covers the link's address (or is the hub's). */
  const allowed = (conn: Connection, address: string): boolean => {
    for (const path of authorised.get(conn) ?? []) if (address === path || address.startsWith(`${path}/`)) return true;
    return false;
  };
  const refuse = (link: Sender | Receiver, condition: string, description: string) => link.close({ condition, description });

  container.on('receiver_open', (ctx: EventContext) => {
    const link = ctx.receiver!;
    const address = link.target?.address ?? '';
    (link as unknown as { local: { attach: { max_message_size: number } } }).local.attach.max_message_size = opts.maxMessageBytes ?? 1024 * 1024;
    link.set_target({ address });
    if (address === '$cbs') return;
    if (address === '$management') {
      if (!allowed(ctx.connection, `${opts.hub}/$management`)) refuse(link, 'amqp:unauthorized-access', 'no token for $management');
      return;
    }
    const m = new RegExp(`^${escape(opts.hub)}(?:/Partitions/(\\d+))?$`).exec(address);
    if (!m || (m[1] !== undefined && Number(m[1]) >= logs.length)) return refuse(link, 'amqp:not-found', `no entity ${address}`);
    if (!allowed(ctx.connection, address)) return refuse(link, 'amqp:unauthorized-access', `no token for ${address}`);
  });

  container.on('sender_open', (ctx: EventContext) => {
    const link = ctx.sender!;
    const address = link.source?.address ?? '';
    if (address === '$cbs' || address === '$management') {
      link.set_source({ address });
      let byNode = replyLinks.get(ctx.session!);
      if (!byNode) replyLinks.set(ctx.session!, (byNode = new Map<string, Sender>()));
      byNode.set(address, link);
      return;
    }
    const m = new RegExp(`^${escape(opts.hub)}/ConsumerGroups/([^/]+)/Partitions/(\\d+)$`).exec(address);
    const log = m ? logs[Number(m[2])] : undefined;
    if (!m || !log || !groups.has(m[1]!)) return refuse(link, 'amqp:not-found', `no entity ${address}`);
    if (!allowed(ctx.connection, address)) return refuse(link, 'amqp:unauthorized-access', `no token for ${address}`);
    const filter = link.source?.filter as Record<string, unknown> | undefined;
    // The clause arrives as a described string (descriptor 0x468C00000004); rhea may leave it wrapped.
    const clause = filter?.[SELECTOR] as { value?: unknown } | string | undefined;
    const text = typeof clause === 'string' ? clause : typeof clause?.value === 'string' ? clause.value : '';
    const start = parseSelector(text);
    if (!start) return refuse(link, 'amqp:invalid-field', `selector filter not understood: ${text || JSON.stringify(clause)}`);
    link.set_source({ address, filter: link.source?.filter });
    const key = `${m[1]}/${m[2]}`;
    const rawEpoch = (link.properties as Record<string, unknown> | undefined)?.[EPOCH];
    const epoch = rawEpoch === undefined || rawEpoch === null ? undefined : Number(rawEpoch);
    // Owner level: a receiver with a lower (or no) epoch than one attached is refused; a
    // receiver with an equal or higher epoch takes the partition and the others are detached.
    const same = [...readers.values()].filter((r) => r.key === key);
    const held = same.filter((r) => r.epoch !== undefined).map((r) => r.epoch!);
    if (held.length > 0 && (epoch === undefined || epoch < Math.max(...held))) {
      return refuse(link, 'amqp:link:stolen', `a receiver with a higher epoch holds ${key}`);
    }
    if (epoch !== undefined) {
      for (const r of same) {
        drop(r);
        refuse(r.link, 'amqp:link:stolen', `a receiver with epoch ${epoch} took ${key}`);
      }
    }
    const desired = (link.desired_capabilities as unknown as string[] | string | undefined) ?? [];
    const reader: Reader = {
      link, key, log, next: log.startIndex(start), epoch, runtimeMetric: ([] as string[]).concat(desired).includes(RUNTIME_METRIC), stop: () => undefined,
    };
    reader.stop = log.onAppend(() => pump(reader));
    readers.set(link, reader);
    attaches += 1;
  });

  const drop = (r: Reader) => {
    r.stop();
    readers.delete(r.link);
  };
  const pump = (r: Reader) => {
    while (r.link.sendable() && r.next < r.log.events.length) r.link.send(outgoing(r.log.events[r.next++]!, r));
  };
  container.on('sendable', (ctx: EventContext) => {
    const r = readers.get(ctx.sender!);
    if (r) pump(r);
  });
  for (const ev of ['sender_close', 'sender_error']) {
    container.on(ev, (ctx: EventContext) => {
      const r = readers.get(ctx.sender!);
      if (r) drop(r);
    });
  }
  const dropConnection = (ctx: EventContext) => {
    for (const r of [...readers.values()]) if (r.link.connection === ctx.connection) drop(r);
  };
  container.on('disconnected', dropConnection);
  container.on('connection_close', dropConnection);

  container.on('message', (ctx: EventContext) => {
    const link = ctx.receiver!;
    const address = link.target?.address ?? '';
    const delivery = ctx.delivery!;
    if (address === '$cbs' || address === '$management') {
      const request = ctx.message!;
      let response: Message;
      if (address === '$cbs') {
        const r = putToken(request, sas, Date.now());
        if ('error' in r) response = r.error;
        else {
          const path = /^[a-z]+:\/\/[^/]+\/(.*?)\/?$/i.exec(r.audience)?.[1] ?? '';
          let set = authorised.get(ctx.connection);
          if (!set) authorised.set(ctx.connection, (set = new Set()));
          set.add(path);
          response = reply(request, 200, 'OK');
        }
      } else {
        response = management(request, opts.hub, logs, createdAt);
      }
      delivery.accept();
      const out = replyLinks.get(ctx.session!)?.get(address);
      if (out) out.send(response);
      return;
    }
    try {
      const batch = decodeTransfer(ctx);
      const pinned = /\/Partitions\/(\d+)$/.exec(address)?.[1];
      const key = batch.partitionKey;
      const partition = pinned !== undefined ? Number(pinned) : key !== undefined ? partitionForKey(key, logs.length) : roundRobin++ % logs.length;
      for (const m of batch.messages) logs[partition]!.append(m.message, m.size, key);
      delivery.accept();
    } catch (err) {
      delivery.reject({ condition: 'amqp:decode-error', description: String(err) });
    }
  });

  const server = container.listen({ port: 0, host: '127.0.0.1', autoaccept: false } as never);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hub: opts.hub,
    connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=${sas.keyName};SharedAccessKey=${sas.key};UseDevelopmentEmulator=true`,
    events: (p) => logs[p]?.events ?? [],
    receivers: () => [...readers.values()].map((r) => r.key).sort(),
    receiverAttaches: () => attaches,
    close: async () => {
      for (const r of [...readers.values()]) drop(r);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A transfer to the hub: one message (format 0) or a batch whose data sections hold encoded messages. */
function decodeTransfer(ctx: EventContext): { partitionKey: string | undefined; messages: { message: Message; size: number }[] } {
  const format = (ctx as EventContext & { format?: number }).format ?? 0;
  if (format === 0) {
    const message = ctx.message!;
    return { partitionKey: partitionKeyOf(message), messages: [{ message, size: rhea.message.encode(message).length }] };
  }
  if (format !== BATCH_FORMAT) throw new Error(`message format ${format} not supported`);
  const raw = ctx.message as unknown as Buffer;
  const envelope = rhea.message.decode(raw) as unknown as Message;
  const body = envelope.body as { typecode?: number; content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
  if (!body || body.typecode !== 0x75) throw new Error('a batch must carry data sections');
  const parts = body.multiple ? (body.content as Buffer[]) : [body.content as Buffer];
  const messages = parts.map((b) => ({ message: rhea.message.decode(b) as unknown as Message, size: b.length }));
  return { partitionKey: partitionKeyOf(envelope) ?? messages.map((m) => partitionKeyOf(m.message)).find((k) => k !== undefined), messages };
}

function partitionKeyOf(m: Message): string | undefined {
  const k: unknown = m.message_annotations?.['x-opt-partition-key'];
  return typeof k === 'string' ? k : undefined;
}

/** The stored message with the broker's annotations, as the service hands it to a receiver. */
function outgoing(e: StoredEvent, r: Reader): Message {
  const m: Message = {
    ...e.message,
    message_annotations: {
      ...(e.message.message_annotations ?? {}),
      'x-opt-sequence-number': rhea.types.wrap_long(e.sequenceNumber),
      'x-opt-offset': String(e.offset),
      'x-opt-enqueued-time': new Date(e.enqueuedTimeMs),
      ...(e.partitionKey === undefined ? {} : { 'x-opt-partition-key': e.partitionKey }),
    },
  };
  if (r.runtimeMetric) {
    const last = r.log.last!;
    m.delivery_annotations = {
      last_enqueued_sequence_number: rhea.types.wrap_long(last.sequenceNumber),
      last_enqueued_offset: String(last.offset),
      last_enqueued_time_utc: new Date(last.enqueuedTimeMs),
      runtime_info_retrieval_time_utc: new Date(),
    };
  }
  return m;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
