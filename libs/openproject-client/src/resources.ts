import type { Formattable, HalResource } from './hal';

/** API v3 representations, with the properties Portico reads. Links stay in `_links`. */
export interface User extends HalResource {
  id: number;
  name: string;
  login?: string;
  email?: string | null;
  status?: string;
  admin?: boolean;
}

export interface Project extends HalResource {
  id: number;
  identifier: string;
  name: string;
  active?: boolean;
  public?: boolean;
  description?: Formattable | null;
  statusExplanation?: Formattable | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface WorkPackage extends HalResource {
  id: number;
  /** 17.4+: the display id (`PROJ-123` with semantic ids in 17.5+). */
  displayId?: string;
  subject: string;
  lockVersion: number;
  description?: Formattable | null;
  startDate?: string | null;
  dueDate?: string | null;
  date?: string | null;
  estimatedTime?: string | null;
  spentTime?: string;
  percentageDone?: number | null;
  createdAt?: string;
  updatedAt?: string;
}

export interface Status extends HalResource {
  id: number;
  name: string;
  isClosed: boolean;
  isDefault?: boolean;
  position?: number;
  color?: string | null;
}

export interface Type extends HalResource {
  id: number;
  name: string;
  isDefault?: boolean;
  isMilestone?: boolean;
  position?: number;
}

export interface Priority extends HalResource {
  id: number;
  name: string;
  isDefault?: boolean;
  isActive?: boolean;
  position?: number;
}

export interface Version extends HalResource {
  id: number;
  name: string;
  description?: Formattable | null;
  startDate?: string | null;
  endDate?: string | null;
  status: 'open' | 'locked' | 'closed';
  sharing: string;
}

export interface Activity extends HalResource {
  id: number;
  version?: number;
  comment?: Formattable | null;
  details?: Formattable[];
  internal?: boolean;
  createdAt: string;
  updatedAt?: string;
}

export interface TimeEntry extends HalResource {
  id: number;
  comment?: Formattable | null;
  spentOn: string;
  hours: string;
  ongoing?: boolean;
  createdAt?: string;
  updatedAt?: string;
}

export interface Relation extends HalResource {
  id: number;
  name?: string;
  type: string;
  reverseType?: string;
  description?: string | null;
  lag?: number | null;
}

export interface Membership extends HalResource {
  id: number;
  createdAt?: string;
}

export interface Query extends HalResource {
  id: number;
  name: string;
  public?: boolean;
  starred?: boolean;
}

export interface Notification extends HalResource {
  id: number;
  reason: string;
  readIAN: boolean;
  createdAt: string;
  updatedAt?: string;
}

export interface Attachment extends HalResource {
  id: number;
  fileName: string;
  fileSize?: number;
  contentType?: string;
  description?: Formattable | null;
  createdAt?: string;
}

export interface Root extends HalResource {
  instanceName: string;
  /** Only for administrators. */
  coreVersion?: string;
}

export interface Configuration extends HalResource {
  perPageOptions?: number[];
  maximumAttachmentFileSize?: number;
  hostName?: string;
}

/** A form: the payload as it would be saved, the schema (fields, allowed values) and validation errors. Never persists. */
export interface Form extends HalResource {
  _embedded: {
    payload: Record<string, unknown>;
    schema: Record<string, unknown>;
    validationErrors: Record<string, { message?: string; _type?: string }>;
  };
}
