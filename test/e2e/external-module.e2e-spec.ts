import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { WeatherModule } from '@portico-examples/weather';
import { bearer, bootPortico, type TestPortico, TOKENS } from '../support/portico';

/**
 * A tool module shipped as its own package (examples/weather-module, imported
 * as `@portico-examples/weather`), enabled by importing it: nothing in src/
 * names it.
 */
describe('a tool module from its own package (@portico-examples/weather)', () => {
  let portico: TestPortico;
  let client: Client;

  beforeAll(async () => {
    portico = await bootPortico({}, [WeatherModule]);
    client = new Client({ name: 'e2e-weather', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(portico.mcpUrl), { requestInit: { headers: bearer(TOKENS.alice) } }));
  });

  afterAll(async () => {
    await client?.close();
    await portico?.stop();
  });

  it('is listed beside the built-in tools and answers, audited under its namespace', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['get_current_time', 'net_fetch_page', 'weather_get_conditions']));

    const before = new Date();
    const result = await client.callTool({ name: 'weather_get_conditions', arguments: { city: 'Tokyo' } });

    expect(result.structuredContent).toMatchObject({ city: 'Tokyo', station: 'RJTT', temperature: 14.5, units: { temperature: '°C' }, sample_data: true });
    const rows = await portico.auditRows(`kind = 'tool_call' AND tool = 'weather_get_conditions' AND occurred_at >= $1`, [before]);
    expect(rows).toEqual([expect.objectContaining({ namespace: 'weather', outcome: 'ok', principal_id: 'token:alice' })]);
  });

  it('returns its ToolError to the model as a tool result', async () => {
    const result = await client.callTool({ name: 'weather_get_conditions', arguments: { city: 'Atlantis' } });

    expect(result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^No weather for "Atlantis": known cities are Berlin/) }] });
  });

  it('fails the boot on a bad value of its own setting, naming it', async () => {
    process.env.WEATHER_UNITS = 'kelvin';
    try {
      await expect(bootPortico({}, [WeatherModule])).rejects.toThrow('WEATHER_UNITS: must be metric or imperial');
    } finally {
      delete process.env.WEATHER_UNITS;
    }
  });
});
