import { FLEET_PREFIX, SVC_PREFIX, isDroneOwnTopic, parseFleetTopic } from '@aerie/contracts';
import type { HubErrorCode } from '../errors.js';

export type Role = 'drone' | 'service';
export interface Principal {
  id: string;
  role: Role;
}

/** Channels a drone may publish on, below its own id only. It never publishes its own commands. */
const DRONE_PUBLISH = new Set(['status', 'events', 'online', 'cmd/result']);

export function authorizePublish(p: Principal, topic: string): HubErrorCode | null {
  if (p.role === 'service') return topic.startsWith(`${FLEET_PREFIX}/`) || topic.startsWith(`${SVC_PREFIX}/`) ? null : 'HUB_ERR_ACL_PUBLISH';
  const parsed = parseFleetTopic(topic);
  return parsed && isDroneOwnTopic(p.id, topic) && DRONE_PUBLISH.has(parsed.channel) ? null : 'HUB_ERR_ACL_PUBLISH';
}

/** A drone subscribes only to its own command topic; services to anything of the fleet and the services. */
export function authorizeSubscribe(p: Principal, filter: string): HubErrorCode | null {
  if (p.role === 'service') {
    // [MQTT 5 4.8.2] shared subscriptions: $share/{group}/{filter}
    const bare = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
    return bare.startsWith(`${FLEET_PREFIX}/`) || bare.startsWith(`${SVC_PREFIX}/`) ? null : 'HUB_ERR_ACL_SUBSCRIBE';
  }
  return filter === `${FLEET_PREFIX}/${p.id}/cmd` ? null : 'HUB_ERR_ACL_SUBSCRIBE';
}
