/**
 * The 124 postcode areas of the UK, the Channel Islands and the Isle of Man (the letters before
 * the digits of a postcode) and the names the
 * Royal Mail gives them: how signatures are grouped when no ONS postcode directory is imported.
 */
export const POSTCODE_AREAS: Readonly<Record<string, string>> = {
  AB: 'Aberdeen', AL: 'St Albans', B: 'Birmingham', BA: 'Bath', BB: 'Blackburn', BD: 'Bradford',
  BH: 'Bournemouth', BL: 'Bolton', BN: 'Brighton', BR: 'Bromley', BS: 'Bristol', BT: 'Belfast',
  CA: 'Carlisle', CB: 'Cambridge', CF: 'Cardiff', CH: 'Chester', CM: 'Chelmsford', CO: 'Colchester',
  CR: 'Croydon', CT: 'Canterbury', CV: 'Coventry', CW: 'Crewe', DA: 'Dartford', DD: 'Dundee',
  DE: 'Derby', DG: 'Dumfries', DH: 'Durham', DL: 'Darlington', DN: 'Doncaster', DT: 'Dorchester',
  DY: 'Dudley', E: 'London E', EC: 'London EC', EH: 'Edinburgh', EN: 'Enfield', EX: 'Exeter',
  FK: 'Falkirk', FY: 'Blackpool', G: 'Glasgow', GL: 'Gloucester', GU: 'Guildford', GY: 'Guernsey',
  HA: 'Harrow', HD: 'Huddersfield', HG: 'Harrogate', HP: 'Hemel Hempstead', HR: 'Hereford',
  HS: 'Outer Hebrides', HU: 'Hull', HX: 'Halifax', IG: 'Ilford', IM: 'Isle of Man', IP: 'Ipswich',
  IV: 'Inverness', JE: 'Jersey', KA: 'Kilmarnock', KT: 'Kingston upon Thames', KW: 'Kirkwall',
  KY: 'Kirkcaldy', L: 'Liverpool', LA: 'Lancaster', LD: 'Llandrindod Wells', LE: 'Leicester',
  LL: 'Llandudno', LN: 'Lincoln', LS: 'Leeds', LU: 'Luton', M: 'Manchester', ME: 'Rochester',
  MK: 'Milton Keynes', ML: 'Motherwell', N: 'London N', NE: 'Newcastle upon Tyne', NG: 'Nottingham',
  NN: 'Northampton', NP: 'Newport', NR: 'Norwich', NW: 'London NW', OL: 'Oldham', OX: 'Oxford',
  PA: 'Paisley', PE: 'Peterborough', PH: 'Perth', PL: 'Plymouth', PO: 'Portsmouth', PR: 'Preston',
  RG: 'Reading', RH: 'Redhill', RM: 'Romford', S: 'Sheffield', SA: 'Swansea', SE: 'London SE',
  SG: 'Stevenage', SK: 'Stockport', SL: 'Slough', SM: 'Sutton', SN: 'Swindon', SO: 'Southampton',
  SP: 'Salisbury', SR: 'Sunderland', SS: 'Southend-on-Sea', ST: 'Stoke-on-Trent', SW: 'London SW',
  SY: 'Shrewsbury', TA: 'Taunton', TD: 'Galashiels', TF: 'Telford', TN: 'Tonbridge', TQ: 'Torquay',
  TR: 'Truro', TS: 'Cleveland', TW: 'Twickenham', UB: 'Southall', W: 'London W', WA: 'Warrington',
  WC: 'London WC', WD: 'Watford', WF: 'Wakefield', WN: 'Wigan', WR: 'Worcester', WS: 'Walsall',
  WV: 'Wolverhampton', YO: 'York', ZE: 'Lerwick',
};

/** The postcode area of a district ("SW1A" → "SW"). */
export function postcodeAreaOf(district: string): string {
  return /^[A-Z]{1,2}/.exec(district)?.[0] ?? district;
}

/**
 * Names of the areas ONS codes stand for that every install knows: the four nations and the
 * English regions (constituency, council and ward names come with an ONS import).
 */
export const BUILT_IN_AREA_NAMES: Readonly<Record<string, string>> = {
  E92000001: 'England', W92000004: 'Wales', S92000003: 'Scotland', N92000002: 'Northern Ireland',
  E12000001: 'North East', E12000002: 'North West', E12000003: 'Yorkshire and The Humber',
  E12000004: 'East Midlands', E12000005: 'West Midlands', E12000006: 'East of England',
  E12000007: 'London', E12000008: 'South East', E12000009: 'South West',
  W99999999: 'Wales', S99999999: 'Scotland', N99999999: 'Northern Ireland',
};
