/**
 * One example per built-in rule (docs/classification.md): provider overrides and sender-side
 * rules are shown beating a misleading PowerMTA bounceCat; every rule id must appear here.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';

const classify = createClassifier({ builtin: BUILTIN_RULES });

interface Example {
  rule: string;
  fault: string;
  reply: string;
  status?: string;
  bounceCat?: string;
  recipient?: string;
}

const EXAMPLES: Example[] = [
  // Provider overrides: PowerMTA files these wrongly.
  {
    rule: 'cpanel-ambiguous',
    fault: 'recipient-temporary',
    bounceCat: 'bad-domain',
    reply:
      'The mail server could not deliver mail to a@example.net. The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.',
  },
  {
    rule: 'microsoft-dbeb',
    fault: 'recipient-permanent',
    bounceCat: 'policy-related',
    status: '5.4.1',
    reply:
      'smtp;550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM11FT012.eop-nam11.prod.protection.outlook.com]',
  },
  {
    rule: 'google-overquota-inactive',
    fault: 'recipient-permanent',
    bounceCat: 'quota-issues',
    status: '5.2.2',
    reply:
      "smtp;552-5.2.2 The recipient's inbox is out of storage space and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm a1si2 - gsmtp",
  },
  {
    rule: 'google-receiving-rate',
    fault: 'recipient-temporary',
    bounceCat: 'inactive-mailbox',
    status: '5.2.1 (mailbox disabled, not accepting messages)',
    recipient: 'a@gmail.com',
    reply:
      'smtp;550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. https://support.google.com/mail/?p=ReceivingRatePerm - gsmtp',
  },
  // Sender-side: never the recipient's fault, whatever bounceCat says.
  {
    rule: 'sender-address-status',
    fault: 'sender-side',
    bounceCat: 'bad-domain',
    status: '5.1.8',
    reply:
      'smtp;553 5.1.8 <bounce@mail.example.com>... Domain of sender address bounce@mail.example.com does not exist',
  },
  {
    rule: 'sender-ptr-status',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    status: '5.7.25',
    reply: 'smtp;550-5.7.25 The IP address sending this message does not have a PTR record setup - gsmtp',
  },
  {
    rule: 'sender-auth-status',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    status: '5.7.515',
    reply:
      "smtp;550 5.7.515 Access denied, sending domain EXAMPLE.COM doesn't meet the required authentication level.",
  },
  {
    rule: 'message-size-status',
    fault: 'sender-side',
    bounceCat: 'quota-issues',
    status: '5.2.3',
    reply: 'smtp;552 5.2.3 Message size exceeds fixed maximum message size (10485760)',
  },
  {
    rule: 'recipient-quota',
    fault: 'recipient-temporary',
    bounceCat: 'bad-mailbox',
    status: '5.1.1',
    reply: 'smtp;552 sorry, mailbox a@example.org is over quota temporarily (#5.1.1)',
  },
  {
    rule: 'sender-auth-text',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    status: '5.7.1',
    reply:
      "smtp;550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.",
  },
  {
    rule: 'sender-ptr-text',
    fault: 'sender-side',
    bounceCat: 'bad-domain',
    reply: 'smtp;554 5.7.1 Reverse DNS lookup for host 203.0.113.22 failed permanently.',
  },
  {
    rule: 'sender-address-text',
    fault: 'sender-side',
    bounceCat: 'bad-domain',
    status: '5.1.2 (bad destination system: no such domain)',
    reply: 'smtp;550 Sender address rejected: Domain not found',
  },
  {
    rule: 'sender-blocklist',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply: 'smtp;554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
  },
  {
    rule: 'sender-rate-limit',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    status: '5.1.1',
    reply: 'smtp;550 5.1.1 <a@example.com> - 192.0.2.1 has sent to too many recipients this hour. IB607',
  },
  {
    rule: 'sender-spam-content',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply: 'smtp;550 5.7.1 Message content rejected, UBE, id=00000-22-225',
  },
  {
    rule: 'sender-virus',
    fault: 'sender-side',
    bounceCat: 'other',
    reply: 'smtp;550 Virus Detected; Content Rejected',
  },
  {
    rule: 'sender-content',
    fault: 'sender-side',
    bounceCat: 'other',
    reply: 'smtp;552 5.6.0 Headers too large (32768 max)',
  },
  {
    rule: 'sender-relay',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply: 'smtp;554 5.7.1 <a@example.org>: Relay access denied',
  },
  {
    rule: 'sender-policy',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply:
      'smtp;554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes',
  },
  {
    rule: 'sender-smtp-stage',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply: 'host mx.example.net[192.0.2.1] said: 550 Rejected (in reply to MAIL FROM command)',
  },
  {
    rule: 'sender-tls',
    fault: 'sender-side',
    status: '5.7.0',
    reply: 'smtp;530 5.7.0 Must issue a STARTTLS command first',
  },
  {
    rule: 'sender-protocol',
    fault: 'sender-side',
    status: '5.5.1',
    reply: 'smtp;503 5.5.1 Bad sequence of commands',
  },
  {
    rule: 'transient-failure',
    fault: 'recipient-temporary',
    bounceCat: 'bad-domain',
    reply: 'smtp;451 4.4.0 No MX could be reached, try again later',
  },
  // Provider phrasings of the same sender-side rules, each beating a recipient bounceCat.
  {
    rule: 'sender-rate-limit',
    fault: 'sender-side',
    bounceCat: 'message-expired',
    status: '4.4.7 (delivery time expired)',
    reply:
      'smtp;451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719) [BN8NAM12FT004.eop-nam12.prod.protection.outlook.com]',
  },
  {
    rule: 'sender-spam-content',
    fault: 'sender-side',
    bounceCat: 'message-expired',
    reply:
      'smtp;421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. - gsmtp',
  },
  {
    rule: 'sender-blocklist',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply: 'smtp;550 5.7.1 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1',
  },
  {
    rule: 'sender-policy',
    fault: 'sender-side',
    bounceCat: 'bad-mailbox',
    reply:
      'smtp;550 Rejected by header based Anti-Spoofing policy: a@example.com - https://community.mimecast.com/docs/DOC-1369#550',
  },
  // General rules: bounceCat missing or `other`.
  {
    rule: 'bad-domain-text',
    fault: 'recipient-permanent',
    reply: "DNS Error: DNS type 'mx' lookup of example.invalid responded with code NXDOMAIN",
  },
  {
    rule: 'unknown-user',
    fault: 'recipient-permanent',
    bounceCat: 'other',
    reply:
      'host spam-filter.example.net[192.0.2.9] said: 550 5.1.1 <a@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
  },
  {
    rule: 'unknown-user-phrases',
    fault: 'recipient-permanent',
    status: '5.0.0 (undefined status)',
    reply:
      "smtp;554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] - mta1010.mail.gq1.yahoo.com",
  },
  {
    rule: 'unknown-user-ja',
    fault: 'recipient-permanent',
    reply: 'ユーザー Neko (a@example.co.jp) は Domino ディレクトリには見つかりません。',
  },
  {
    rule: 'mailbox-unavailable',
    fault: 'recipient-permanent',
    status: '5.0.0',
    reply: 'smtp;550 Requested action not taken: mailbox unavailable (-2147467259:308)',
  },
  {
    rule: 'inactive-mailbox-text',
    fault: 'recipient-permanent',
    reply:
      'smtp;554 delivery error: dd Sorry your message to a@yahoo.com cannot be delivered. This account has been disabled or discontinued [#102].',
  },
  {
    rule: 'mail-loop',
    fault: 'recipient-temporary',
    reply: 'smtp;554 5.4.6 Hop count exceeded - possible mail loop',
  },
  {
    rule: 'expired-text',
    fault: 'recipient-temporary',
    reply: 'Message could not be delivered for 5 days Message will be deleted from queue',
  },
  {
    rule: 'recipient-system-error',
    fault: 'recipient-temporary',
    reply: 'smtp;554 5.3.0 unknown mailer error 255',
  },
  { rule: 'status-bad-mailbox', fault: 'recipient-permanent', reply: 'smtp;550 5.1.1 <a@example.com>' },
  { rule: 'status-bad-domain', fault: 'recipient-permanent', reply: 'smtp;550 5.1.2 <a@nowhere.example>' },
  { rule: 'status-disabled', fault: 'recipient-permanent', reply: 'smtp;550 5.2.1 <a@example.com>' },
  { rule: 'status-quota', fault: 'recipient-temporary', reply: 'smtp;452 4.2.2 <a@example.com>' },
  {
    rule: 'status-expired',
    fault: 'recipient-temporary',
    status: '4.4.7 (delivery time expired)',
    reply: '',
  },
  {
    rule: 'status-no-answer',
    fault: 'recipient-temporary',
    status: '4.4.1 (no answer from host)',
    reply: '',
  },
  { rule: 'status-routing', fault: 'recipient-temporary', status: '5.4.6', reply: '' },
  { rule: 'status-configuration', fault: 'sender-side', status: '5.3.5', reply: '' },
  { rule: 'status-system', fault: 'recipient-temporary', status: '5.3.2', reply: '' },
  { rule: 'status-protocol', fault: 'sender-side', status: '5.5.2', reply: '' },
  { rule: 'status-content', fault: 'sender-side', status: '5.6.1', reply: '' },
  { rule: 'status-security', fault: 'sender-side', reply: 'smtp;550 5.7.1 <a@example.com>' },
  { rule: 'status-temporary', fault: 'recipient-temporary', status: '4.1.0', reply: '' },
];

describe('built-in rules, one example each', () => {
  it.each(EXAMPLES)('$rule', (example) => {
    const verdict = classify({
      bounceCat: example.bounceCat,
      dsnStatus: example.status,
      dsnDiag: example.reply,
      recipient: example.recipient ?? 'a@example.com',
    });
    expect(verdict).toMatchObject({ ruleId: example.rule, fault: example.fault });
  });

  it('every built-in rule has an example', () => {
    const ids = [...BUILTIN_RULES.overrides, ...BUILTIN_RULES.general].map((r) => r.id);
    expect(ids.filter((id) => !EXAMPLES.some((e) => e.rule === id))).toEqual([]);
  });

  it('a provider-scoped rule does not apply outside its provider', () => {
    const reply =
      'smtp;550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents';
    expect(classify({ dsnDiag: reply, recipient: 'a@gmail.com' }).ruleId).toBe('google-receiving-rate');
    expect(classify({ dsnDiag: reply, recipient: 'a@example.org' }).ruleId).toBe('status-disabled');
    expect(
      classify({ dsnDiag: reply, recipient: 'a@example.org', dsnMta: 'aspmx.l.google.com (142.250.1.1)' })
        .ruleId,
    ).toBe('google-receiving-rate');
  });

  it('the enhanced code inside the reply is used when dsnStatus is empty or generic', () => {
    for (const status of ['', '5.0.0 (undefined status)', undefined]) {
      expect(classify({ dsnStatus: status, dsnDiag: 'smtp;550-5.1.1 <a@example.com>' }).ruleId).toBe(
        'status-bad-mailbox',
      );
      expect(
        classify({ dsnStatus: status, dsnDiag: 'Sorry, no mailbox here by that name. (#5.1.1)' }).category,
      ).toBe('bad-mailbox');
    }
    // An IP address is not a status code.
    expect(classify({ dsnDiag: 'connected to 192.0.2.1 and gave up' }).ruleId).toBe('default');
  });
});
