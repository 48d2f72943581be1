/**
 * A scripted Responses API on 127.0.0.1 (`POST /v1/responses`, server-sent events), so a real
 * Codex harness can be made to run a tool without any model: the first turn request is answered
 * with an `exec_command` function call, later ones with a short assistant message. Every request
 * body is recorded (the test reads the tool's output from the follow-up request).
 */
import { createServer, type Server } from 'node:http';

export interface ModelRequest {
  path: string;
  body: any;
}

export class MockModel {
  readonly requests: ModelRequest[] = [];
  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** `command` is what the model asks the `exec_command` tool to run. */
  static async start(command: string): Promise<MockModel> {
    let model: MockModel | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || !req.url?.endsWith('/responses')) {
          res.writeHead(404).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        model!.requests.push({ path: req.url, body });
        const turn = model!.requests.length;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (data: Record<string, unknown>) => res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
        event({ type: 'response.created', response: { id: `resp-${turn}` } });
        const hasExec = (body.tools ?? []).some((t: { name?: string }) => t.name === 'exec_command');
        if (turn === 1 && hasExec) {
          event({
            type: 'response.output_item.done',
            item: { type: 'function_call', call_id: 'call-1', name: 'exec_command', arguments: JSON.stringify({ cmd: command }) },
          });
        } else {
          event({
            type: 'response.output_item.done',
            item: { type: 'message', role: 'assistant', id: `msg-${turn}`, content: [{ type: 'output_text', text: 'done' }] },
          });
        }
        event({
          type: 'response.completed',
          response: { id: `resp-${turn}`, usage: { input_tokens: 1, input_tokens_details: null, output_tokens: 1, output_tokens_details: null, total_tokens: 2 } },
        });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    model = new MockModel(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`);
    return model;
  }

  /** The tool output the harness sent back for `call-1`, once it has. */
  toolOutput(): string | undefined {
    for (const request of this.requests) {
      for (const item of request.body.input ?? []) {
        if (item.type === 'function_call_output' && item.call_id === 'call-1') return typeof item.output === 'string' ? item.output : JSON.stringify(item.output);
      }
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
