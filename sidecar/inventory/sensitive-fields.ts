/**
 * Sensitive-looking JSON field names: the inventory flags them so it can say which identities
 * receive e-mail addresses, card numbers or credentials. Names are compared after lowercasing and
 * dropping `_`, `-` and `.`, so `credit_card`, `creditCard` and `Credit-Card` are one name.
 */

export type SensitiveKind =
  | 'email' | 'phone' | 'card' | 'iban' | 'ssn' | 'password' | 'token' | 'secret' | 'address' | 'birthdate' | 'name';

// Substring rules, checked in order: the first that matches names the kind.
const RULES: readonly (readonly [string, SensitiveKind])[] = [
  ['password', 'password'], ['passwd', 'password'], ['passphrase', 'password'], ['pwd', 'password'],
  ['secret', 'secret'], ['privatekey', 'secret'], ['apikey', 'token'], ['accesskey', 'token'],
  ['token', 'token'], ['jwt', 'token'], ['sessionid', 'token'], ['credential', 'secret'],
  ['email', 'email'], ['mail', 'email'],
  ['phone', 'phone'], ['mobile', 'phone'], ['msisdn', 'phone'],
  ['creditcard', 'card'], ['cardnumber', 'card'], ['cardno', 'card'], ['pan', 'card'], ['cvv', 'card'], ['cvc', 'card'],
  ['iban', 'iban'], ['bic', 'iban'], ['accountnumber', 'iban'],
  ['ssn', 'ssn'], ['socialsecurity', 'ssn'], ['nationalid', 'ssn'], ['taxid', 'ssn'], ['passport', 'ssn'],
  ['birthdate', 'birthdate'], ['dateofbirth', 'birthdate'], ['dob', 'birthdate'],
  ['streetaddress', 'address'], ['postcode', 'address'], ['zipcode', 'address'],
  ['firstname', 'name'], ['lastname', 'name'], ['fullname', 'name'], ['surname', 'name'],
];

// Short rules that must be the whole name (`pan` inside `company`, `dob` inside `adobe` are not sensitive).
const WHOLE_NAME_ONLY = new Set(['pan', 'pwd', 'bic', 'dob', 'ssn', 'cvv', 'cvc', 'jwt', 'mail']);

function canonical(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}

/** The kind of sensitive data a field name suggests, or undefined. */
export function sensitiveFieldKind(name: string): SensitiveKind | undefined {
  if (name.length === 0 || name.length > 128) return undefined;
  const n = canonical(name);
  for (const [needle, kind] of RULES) {
    if (WHOLE_NAME_ONLY.has(needle) ? n === needle : n.includes(needle)) return kind;
  }
  return undefined;
}

/** The sensitive field names among `names`, sorted. */
export function sensitiveFields(names: Iterable<string>): string[] {
  const out: string[] = [];
  for (const n of names) if (sensitiveFieldKind(n) !== undefined) out.push(n);
  return out.sort();
}
