/** Stable error codes of the edge agent; CommandResult.code carries them. Match on code, never text. */
export const AgentErrorCodes = {
  AGENT_OK: 'Command carried out',
  AGENT_ERR_BAD_COMMAND: 'Command payload does not match the DroneCommand schema',
  AGENT_ERR_WRONG_DRONE: 'Command is addressed to another drone',
  AGENT_ERR_NO_LINK: 'No heartbeat from the flight controller',
  AGENT_ERR_FC_TIMEOUT: 'The flight controller did not acknowledge in time',
  AGENT_ERR_FC_REJECTED: 'The flight controller refused the command',
  AGENT_ERR_MISSION_REJECTED: 'The flight controller refused the mission upload',
  AGENT_ERR_CONFIG: 'Invalid agent configuration',
  AGENT_ERR_UNAUTHENTICATED: 'Command HMAC missing, wrong, or its timestamp too far from the agent clock',
} as const;
export type AgentErrorCode = keyof typeof AgentErrorCodes;

export class AgentError extends Error {
  constructor(readonly code: AgentErrorCode, message?: string) {
    super(message ?? AgentErrorCodes[code]);
    this.name = 'AgentError';
  }
}
