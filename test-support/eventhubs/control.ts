import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Message } from 'rhea';
import type { PartitionLog } from './partition-log.js';

/** A request/response reply: AMQP-over-HTTP-style status in application properties, as the service answers. */
export function reply(request: Message, status: number, description: string, body?: unknown): Message {
  const m: Message = { body: body ?? null, application_properties: { 'status-code': status, 'status-description': description } };
  if (request.message_id !== undefined) m.correlation_id = request.message_id;
  if (request.reply_to !== undefined) m.to = request.reply_to;
  return m;
}

export interface SasKey {
  keyName: string;
  key: string;
}

/**
 * `$cbs` put-token (AMQP CBS draft, as Event Hubs implements it): the body is a SAS token
 * `SharedAccessSignature sr=<url-encoded audience>&sig=<url-encoded HMAC-SHA256>&se=<expiry s>&skn=<key name>`
 * signed over `sr + "\n" + se` (core-amqp auth/tokenProvider.js). Returns the audience the
 * connection is now authorised for, or an error reply.
 */
export function putToken(request: Message, sas: SasKey, nowMs: number): { audience: string } | { error: Message } {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (props['operation'] !== 'put-token') return { error: reply(request, 400, `unsupported $cbs operation ${String(props['operation'])}`) };
  const audience = typeof props['name'] === 'string' ? props['name'] : '';
  const token = typeof request.body === 'string' ? request.body : '';
  const m = /^SharedAccessSignature (.*)$/.exec(token);
  if (!m || props['type'] !== 'servicebus.windows.net:sastoken') return { error: reply(request, 400, 'expected a SAS token') };
  const fields = new URLSearchParams(m[1]!.replace(/\+/g, '%2B'));
  const sr = fields.get('sr') ?? '';
  const se = Number(fields.get('se'));
  const sig = fields.get('sig') ?? '';
  if (fields.get('skn') !== sas.keyName) return { error: reply(request, 401, 'unknown key name') };
  if (!(se * 1000 > nowMs)) return { error: reply(request, 401, 'token expired') };
  if (sr !== audience) return { error: reply(request, 401, `token audience ${sr} is not ${audience}`) };
  const expected = createHmac('sha256', sas.key).update(`${encodeURIComponent(sr)}\n${se}`).digest();
  const given = Buffer.from(sig, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: reply(request, 401, 'bad signature') };
  return { audience };
}

/**
 * `$management` READ of the hub (`com.microsoft:eventhub`) and of a partition
 * (`com.microsoft:partition`), answered with the map the SDK reads (managementClient.js
 * getEventHubProperties / getPartitionProperties).
 */
export function management(request: Message, hub: string, partitions: readonly PartitionLog[], createdAt: Date): Message {
  const props = (request.application_properties ?? {}) as Record<string, unknown>;
  if (props['operation'] !== 'READ') return reply(request, 400, `unsupported operation ${String(props['operation'])}`);
  if (props['name'] !== hub) return reply(request, 404, `no event hub ${String(props['name'])}`);
  if (props['type'] === 'com.microsoft:eventhub') {
    return reply(request, 200, 'OK', { name: hub, type: 'com.microsoft:eventhub', created_at: createdAt, partition_count: partitions.length, partition_ids: partitions.map((p) => p.id) });
  }
  if (props['type'] === 'com.microsoft:partition') {
    const p = partitions.find((x) => x.id === String(props['partition']));
    if (!p) return reply(request, 404, `no partition ${String(props['partition'])}`);
    const last = p.last;
    return reply(request, 200, 'OK', {
      name: hub, type: 'com.microsoft:partition', partition: p.id,
      begin_sequence_number: 0,
      last_enqueued_sequence_number: last?.sequenceNumber ?? -1,
      last_enqueued_offset: String(last?.offset ?? -1),
      last_enqueued_time_utc: new Date(last?.enqueuedTimeMs ?? 0),
      is_partition_empty: last === undefined,
    });
  }
  return reply(request, 400, `unsupported type ${String(props['type'])}`);
}
