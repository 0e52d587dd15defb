import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'portico:public';

/** Opens a route to unauthenticated callers (health, metadata). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
