import { redactUrl } from './logger.module';

describe('redactUrl', () => {
  it('hides the values of secret-looking query parameters and keeps the rest', () => {
    expect(redactUrl('/mcp?access_token=abc&x=1')).toBe('/mcp?access_token=%5Bredacted%5D&x=1');
    expect(redactUrl('/oauth/callback?code=xyz&state=s')).toBe('/oauth/callback?code=%5Bredacted%5D&state=s');
    expect(redactUrl('/mcp?apiKey=k')).not.toContain('=k');
  });

  it('leaves URLs without a query alone', () => {
    expect(redactUrl('/mcp')).toBe('/mcp');
  });
});
