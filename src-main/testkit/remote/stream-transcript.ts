/**
 * Records what relay streams or direct connections carried (JSON-RPC sent and received per peer,
 * plus facts as steps) and turns it into the conformance suite's normalized transcript, so one remote
 * scenario run on exec-desk and on the reference can be compared line by line.
 */
import { normalizeRun, type RawConnection, type RawStep, type ServerKind, type Transcript } from '../../conformance/normalize.ts';
import type { RpcPeer } from '../rpc-peer.ts';

export class StreamTranscript {
  private readonly tracked: Array<{ stream: RpcPeer; connection: RawConnection }> = [];
  private readonly steps: RawStep[] = [];

  /** Starts recording a stream under `label` (labels, not stream ids, appear in the transcript). */
  track<T extends RpcPeer>(stream: T, label: string): T {
    const connection: RawConnection = { label, description: 'relay stream', sent: [], received: [], closeCode: null };
    const send = stream.send.bind(stream);
    stream.send = (message: unknown) => {
      connection.sent.push({ type: 'json', message });
      send(message);
    };
    this.tracked.push({ stream, connection });
    return stream;
  }

  /** A relay-level fact compared across implementations (e.g. how a stream ended). */
  step(text: string): void {
    this.steps.push({ kind: 'step', text });
  }

  transcript(scenario: string, kind: ServerKind, paths: Array<[string, string]>): Transcript {
    const connections = this.tracked.map(({ stream, connection }) => ({
      ...connection,
      received: stream.messages.map((message) => ({ text: JSON.stringify(message), binary: false })),
    }));
    return normalizeRun({ scenario, kind, steps: this.steps, connections, paths });
  }
}
