/** Types of the stand-in electron module (fake-electron.mjs), as far as the shell test reads them. */
export declare const record: {
  privileged: Array<{ scheme: string }>;
  protocolHandlers: Map<string, (request: Request) => Promise<Response>>;
  ipcHandlers: Map<string, (event: unknown, ...args: unknown[]) => Promise<any>>;
  windows: any[];
  trays: any[];
  loginItems: unknown[];
  quitRequests: number;
  quit: boolean;
  exitCode: number | null;
  permissionRequest: ((contents: unknown, permission: string, callback: (granted: boolean) => void, details: { requestingUrl: string }) => void) | null;
  permissionCheck: unknown;
  headersReceived: unknown;
};
export declare const app: import('node:events').EventEmitter;
