import type { CipherSuite, PacketKeys, RakpContext } from '../protocol/index.js';
import type { ReplayWindow } from '../transport/replay-window.js';
import type { SimUser } from './sim-users.js';

/** One session slot of the simulated BMC, from Open Session to Close Session. */
export interface SimSession {
  readonly bmcSessionId: number;
  readonly consoleSessionId: number;
  readonly suite: CipherSuite;
  /** Maximum privilege granted at Open Session. */
  readonly maxPrivilege: number;
  state: 'opened' | 'rakp2-sent' | 'active';
  /** Set once RAKP 1 arrived. */
  rakp?: RakpContext;
  user?: SimUser;
  keys?: PacketKeys;
  /** Current privilege (Set Session Privilege Level). */
  privilege: number;
  /** Outbound session sequence number. */
  outSeq: number;
  readonly window: ReplayWindow;
  /** The last RAKP request payload and our answer, to answer a retransmission identically. */
  lastRakp?: { readonly request: Buffer; readonly reply: Buffer };
  /** Clock time of the last packet, for idle expiry. */
  lastUsed: number;
  /**
   * The last command (its IPMI message bytes: same rqSeq, netFn, command and data) and its
   * answer: a retransmission within a few seconds gets that answer again without being
   * carried out twice, as real BMCs detect duplicates by rqSeq.
   */
  lastCommand?: { readonly request: Buffer; readonly cc: number; readonly data?: Buffer; readonly at: number };
}
