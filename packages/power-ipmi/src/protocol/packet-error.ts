import { ProtocolError } from '@hafence/core';

/**
 * A datagram that is not a well-formed IPMI/RMCP+ packet (short, bad checksum, bad
 * integrity code, bad padding…). Every codec rejection is this one typed error, so
 * fuzzers and transports can tell junk from bugs.
 */
export class MalformedPacketError extends ProtocolError {
  /** Builds the error; `detail` names the field that was wrong. */
  constructor(detail: string, host = 'peer') {
    super(host, `malformed packet: ${detail}`);
  }
}
