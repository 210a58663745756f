export { PROTOCOL_VERSION, FrameKind, frameKindLabel, isFrameKind } from './frame-kinds.js'
export type { FrameKindName } from './frame-kinds.js'
export { CloseCode, isRetryableClose } from './close-codes.js'
export { ERROR_CODES, FrameDecodeError, isErrorCode } from './errors.js'
export type { ErrorCode, FrameDecodeErrorCode, FrameDecodeErrorDetails } from './errors.js'
export { MEMBER_ROLES } from './frames.js'
export type {
  AckFrame, AwarenessFrame, ErrorFrame, EventFrame, Frame, FrameOfKind, HelloFields, HelloFrame, MemberRole,
  OrchardEvent, RpcErrorResponseFrame, RpcOkResponseFrame, RpcRequestFrame, RpcResponseFrame, SyncFrame,
  TermGapFrame, TermInputFrame, TermOutputFrame, TermResizeFrame, TermSubscribeFrame, TermUnsubscribeFrame,
  WelcomeFields, WelcomeFrame, WelcomeLimits
} from './frames.js'
export { encodeFrame } from './encode.js'
export { decodeFrame, peekKind } from './decode.js'
export {
  ackFrame, awarenessFrame, errorFrame, eventFrame, rpcErrorFrame, rpcOkFrame, rpcRequestFrame, syncFrame,
  termInputFrame, termOutputFrame
} from './builders.js'
export { YWS_AUTH_PERMISSION_DENIED, YwsMessageType, decodeYwsMessage, encodeYwsMessage } from './yws.js'
export type { YwsAuthMessage, YwsAwarenessMessage, YwsMessage, YwsQueryAwarenessMessage, YwsSyncMessage } from './yws.js'
export { can, REFUSALS } from './roles.js'
export type { Action } from './roles.js'
export {
  CREDENTIAL_PREFIX,
  INVITE_PREFIX,
  formatCredential,
  formatInvite,
  isInviteToken,
  parseCredential,
  parseInvite
} from './tokens.js'
export type { InviteToken, MemberCredential } from './tokens.js'
export { CONTROL_KEYS } from './control-types.js'
export type { ActivityEntry, AgentRecord, AgentStatus, ControlInstance, ControlMember, LeaseRecord } from './control-types.js'
export { SYNC_STEP1, SYNC_STEP2, SYNC_UPDATE, decodeSyncMessage, encodeSyncMessage } from './sync-messages.js'
export type { SyncMessage } from './sync-messages.js'
export { decodeAwarenessUpdate, encodeAwarenessUpdate } from './awareness-codec.js'
export type { AwarenessEntry } from './awareness-codec.js'
