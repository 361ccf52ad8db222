/**
 * Geography helpers: which kind of area an ONS (GSS) code names, and turning boundary files
 * (GeoJSON or TopoJSON, in longitude/latitude or British National Grid metres) into planar
 * geometries ready to draw. Rendering lives in the stats module; this file has no database access.
 */
import { geoTransverseMercator } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import { feature as topojsonFeature } from 'topojson-client';
import type { Topology, GeometryObject } from 'topojson-specification';
import type { GeoAreaKind } from '../db/schema.ts';

/** GSS code prefixes (the first three characters) for each kind of area we count. */
const KIND_BY_PREFIX: Record<string, GeoAreaKind> = {
  E14: 'constituency', W07: 'constituency', S14: 'constituency', N05: 'constituency', N06: 'constituency',
  E06: 'local_authority', E07: 'local_authority', E08: 'local_authority', E09: 'local_authority',
  W06: 'local_authority', S12: 'local_authority', N09: 'local_authority',
  E05: 'ward', W05: 'ward', S13: 'ward', N08: 'ward',
  // English regions; Wales, Scotland and Northern Ireland stand as regions of their own.
  E12: 'region', W92: 'region', S92: 'region', N92: 'region',
  E92: 'country',
};

const GSS_CODE = /^[EKLMNSW]\d{8}$/;

/** The kind of area an ONS code names ("E14001172" → constituency), or null for kinds we do not count. */
export function kindOfCode(code: string): GeoAreaKind | null {
  if (!GSS_CODE.test(code)) return null;
  return KIND_BY_PREFIX[code.slice(0, 3)] ?? null;
}

/** True for the ONS pseudo-codes that mean "no such area here" (e.g. "W99999999"). */
export function isPseudoCode(code: string): boolean {
  return /^[A-Z]99999999$/.test(code);
}

export interface BoundaryFeature {
  code: string;
  kind: GeoAreaKind;
  name: string | null;
  /** Planar geometry: metres east and north (British National Grid, or a transverse Mercator close to it). */
  geometry: Geometry;
}

export interface ReadBoundaries {
  features: BoundaryFeature[];
  /** Features without a recognisable ONS code, or of a kind we do not count. */
  skipped: number;
}

/**
 * Reads a GeoJSON FeatureCollection or a TopoJSON topology and returns each feature with an ONS
 * code, as planar geometry. The code is taken from a property ending in "CD" (PCON24CD, LAD23CD…)
 * or the feature's id; the name from a property ending in "NM".
 */
export function readBoundaries(json: unknown): ReadBoundaries {
  const collections: FeatureCollection[] = [];
  const doc = json as { type?: string; objects?: Record<string, GeometryObject> };
  if (doc?.type === 'Topology' && doc.objects) {
    for (const object of Object.values(doc.objects)) {
      const converted = topojsonFeature(doc as unknown as Topology, object) as Feature | FeatureCollection;
      collections.push(converted.type === 'FeatureCollection' ? converted : { type: 'FeatureCollection', features: [converted] });
    }
  } else if (doc?.type === 'FeatureCollection') {
    collections.push(doc as unknown as FeatureCollection);
  } else if (doc?.type === 'Feature') {
    collections.push({ type: 'FeatureCollection', features: [doc as unknown as Feature] });
  } else {
    throw new Error('Not a GeoJSON FeatureCollection or a TopoJSON topology.');
  }

  const project = planarProjection(collections);
  const features: BoundaryFeature[] = [];
  let skipped = 0;
  for (const collection of collections) {
    for (const f of collection.features) {
      const props = (f.properties ?? {}) as Record<string, unknown>;
      const entries = Object.entries(props);
      const code =
        entries.find(([k, v]) => /cd$/i.test(k) && typeof v === 'string' && kindOfCode(v))?.[1] as string | undefined ??
        (typeof f.id === 'string' && kindOfCode(f.id) ? f.id : undefined);
      const kind = code ? kindOfCode(code) : null;
      if (!code || !kind || !f.geometry || (f.geometry.type !== 'Polygon' && f.geometry.type !== 'MultiPolygon')) {
        skipped++;
        continue;
      }
      const name = entries.find(([k, v]) => /nm$/i.test(k) && typeof v === 'string')?.[1] as string | undefined;
      features.push({ code, kind, name: name ?? null, geometry: mapCoordinates(f.geometry, project) });
    }
  }
  return { features, skipped };
}

/**
 * Longitude/latitude become metres on a transverse Mercator centred on 2° W (as the British
 * National Grid is), rounded to 10 m; coordinates already in metres are only rounded. Projecting
 * here, point by point, means the drawing step is planar and ring winding never matters.
 */
function planarProjection(collections: FeatureCollection[]): (p: Position) => Position {
  let degrees = true;
  for (const c of collections) {
    for (const f of c.features) {
      if (!f.geometry) continue;
      mapCoordinates(f.geometry, (p) => {
        if (Math.abs(p[0]!) > 180 || Math.abs(p[1]!) > 90) degrees = false;
        return p;
      });
      if (!degrees) break;
    }
  }
  const round = (v: number) => Math.round(v / 10) * 10;
  if (!degrees) return (p) => [round(p[0]!), round(p[1]!)];
  const projection = geoTransverseMercator().rotate([2, 0]).scale(6_371_000).translate([0, 0]);
  return (p) => {
    const [x, y] = projection([p[0]!, p[1]!])!;
    // d3 draws y downwards; store northings upwards, as the British National Grid does.
    return [round(x), round(-y)];
  };
}

function mapCoordinates(geometry: Geometry, fn: (p: Position) => Position): Geometry {
  switch (geometry.type) {
    case 'Polygon':
      return { type: 'Polygon', coordinates: geometry.coordinates.map((ring) => ring.map(fn)) };
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: geometry.coordinates.map((poly) => poly.map((ring) => ring.map(fn))) };
    default:
      return geometry;
  }
}
