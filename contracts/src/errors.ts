/** Stable error codes of the published language. Callers match on `code`, never on text. */
export const ContractErrorCodes = {
  CONTRACT_ERR_NOT_JSON: 'Payload is not valid UTF-8 JSON',
  CONTRACT_ERR_SCHEMA: 'Payload does not match the message schema',
  CONTRACT_ERR_TOO_LARGE: 'Payload exceeds the size limit',
} as const;
export type ContractErrorCode = keyof typeof ContractErrorCodes;
