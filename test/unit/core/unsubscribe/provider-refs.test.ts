/**
 * Provider ids from the headers of the sent message, as PowerMTA logs them (`header_*` fields), in
 * the shapes MailWizz really writes (docs/providers.md "Headers MailWizz puts on campaign mail"):
 * `lists/{list}/unsubscribe/{subscriber}/{campaign}`, 1.x with `/unsubscribe-direct?source=...`,
 * 2.x with `?source=...`, each optionally followed by a `mailto:` part; Feedback-ID
 * `{campaign}:{subscriber}:{list}:{customer}`.
 */
import { describe, expect, it } from 'vitest';
import {
  extractProviderRefs,
  idsFromFeedbackId,
  idsFromListUnsubscribe,
} from '#core/unsubscribe/provider-refs.ts';

const LIST = 'lq981kz0aa2bc';
const SUBSCRIBER = 'ab12cd34ef567';
const CAMPAIGN = 'cm55xy77zz001';
const CUSTOMER = 'cu00aa11bb22c';
const FRONTEND = 'https://mw.example.com/';

const MAILWIZZ_1X =
  `<${FRONTEND}lists/${LIST}/unsubscribe/${SUBSCRIBER}/${CAMPAIGN}/unsubscribe-direct?source=email-client-unsubscribe-button>, ` +
  `<mailto:reply@example.com?subject=[${CAMPAIGN}:${SUBSCRIBER}] Please unsubscribe me.&body=Please unsubscribe me from News list.>`;
const MAILWIZZ_2X =
  `<${FRONTEND}lists/${LIST}/unsubscribe/${SUBSCRIBER}/${CAMPAIGN}?source=email-client-unsubscribe-button>, ` +
  `<mailto:unsub@example.com?subject=Campaign-Uid:${CAMPAIGN} / Subscriber-Uid:${SUBSCRIBER} - Unsubscribe request&body=Please unsubscribe me!>`;
const MAILWIZZ_OLD = `<${FRONTEND}lists/${LIST}/unsubscribe/${SUBSCRIBER}/${CAMPAIGN}>`;

const expected = { list: LIST, subscriber: SUBSCRIBER, campaign: CAMPAIGN };

describe('MailWizz List-Unsubscribe URL: lists/{list}/unsubscribe/{subscriber}/{campaign}', () => {
  it.each([
    ['1.x (unsubscribe-direct, ?source=, mailto part)', MAILWIZZ_1X],
    ['2.x (?source=, mailto part)', MAILWIZZ_2X],
    ['no suffix, no mailto', MAILWIZZ_OLD],
    ['header folded by the MTA', MAILWIZZ_2X.replace(', <mailto', ',\r\n <mailto')],
  ])('%s', (_name, header) => {
    expect(idsFromListUnsubscribe(header)).toEqual(expected);
  });

  it('a bare mailto in our own unsubscribe-domain form {subscriber}.{list}.{campaign}@', () => {
    expect(
      idsFromListUnsubscribe(
        `<mailto:${SUBSCRIBER}.${LIST}.${CAMPAIGN}@unsub.example.com?subject=unsubscribe>`,
      ),
    ).toEqual(expected);
  });
});

describe('Feedback-ID {campaign}:{subscriber}:{list}:{customer}', () => {
  it('reads the three uids in that order', () => {
    expect(idsFromFeedbackId(`${CAMPAIGN}:${SUBSCRIBER}:${LIST}:${CUSTOMER}`)).toEqual(expected);
  });
});

describe('extractProviderRefs with only one source of ids', () => {
  const ref = { providerType: 'mailwizz', listId: LIST, subscriberId: SUBSCRIBER, campaignId: CAMPAIGN };
  it.each([
    ['List-Unsubscribe 1.x', new Map([['list-unsubscribe', MAILWIZZ_1X]])],
    ['List-Unsubscribe 2.x', new Map([['list-unsubscribe', MAILWIZZ_2X]])],
    ['Feedback-ID', new Map([['feedback-id', `${CAMPAIGN}:${SUBSCRIBER}:${LIST}:${CUSTOMER}`]])],
    [
      'MailWizz List-Id "{list} <{display name}>" with the 1.x subscriber header',
      new Map([
        ['list-id', `${LIST} <News and offers>`],
        ['x-qbnd-subscriber-uid', SUBSCRIBER],
        ['list-unsubscribe', MAILWIZZ_1X],
      ]),
    ],
  ])('%s names the subscriber, not the campaign', (_name, headers) => {
    expect(extractProviderRefs(headers)).toEqual([ref]);
  });

  it('a display name that looks like a uid does not replace the list uid', () => {
    const headers = new Map([
      ['list-id', `${LIST} <weeklyupdates>`],
      ['feedback-id', `${CAMPAIGN}:${SUBSCRIBER}:${LIST}:${CUSTOMER}`],
    ]);
    expect(extractProviderRefs(headers)).toEqual([ref]);
  });
});
