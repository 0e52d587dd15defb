/** The realm of every `WWW-Authenticate` challenge Portico sends. */
export const AUTH_REALM = 'Portico';
