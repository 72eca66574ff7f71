/** A business registering with Aerie, or one of its customers (businessId set), or a customer on its own. */
export interface Account {
  id: string;
  kind: 'business' | 'customer';
  name: string;
  /** The business a customer belongs to; null for businesses and independent customers. */
  businessId: string | null;
  /** A suspended account's new deliveries fail at the saga's first step. */
  status: 'active' | 'suspended';
  createdAt: number;
}

export const PACKAGE_SIZES = ['small', 'medium', 'large'] as const;
export type PackageSize = (typeof PACKAGE_SIZES)[number];

export interface Package {
  id: string;
  /** The account it belongs to; null when created without auth (local runs). */
  owner: string | null;
  size: PackageSize;
  weightKg: number;
  /** The label on the parcel (barcode, order number); free text. */
  tag: string | null;
  /** The delivery carrying it, once the saga's "create the package" step bound it. */
  deliveryId: string | null;
  createdAt: number;
}

/** Same fields, same record: what an idempotent PUT compares. */
export function sameAccount(a: Account, b: Omit<Account, 'createdAt'>): boolean {
  return a.kind === b.kind && a.name === b.name && a.businessId === b.businessId && a.status === b.status;
}

export function samePackage(a: Package, b: Omit<Package, 'createdAt' | 'deliveryId'>): boolean {
  return a.owner === b.owner && a.size === b.size && a.weightKg === b.weightKg && a.tag === b.tag;
}
