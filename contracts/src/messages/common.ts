import { Type, type Static } from '@sinclair/typebox';

/** Device and principal ids travel in MQTT topics, so they exclude `/`, `+`, `#` and whitespace. */
export const DroneId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'Fleet-wide drone id' });
export const EpochMs = Type.Integer({ minimum: 0, description: 'Unix epoch milliseconds' });
export const CorrelationId = Type.String({ minLength: 1, maxLength: 128, description: 'Id of the user action that started this message' });

export const LatLon = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'WGS84 degrees' }),
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'WGS84 degrees' }),
  },
  { additionalProperties: false },
);
export type LatLon = Static<typeof LatLon>;

export const Location = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    altRel: Type.Number({ description: 'metres above home' }),
  },
  { additionalProperties: false },
);
export type Location = Static<typeof Location>;
