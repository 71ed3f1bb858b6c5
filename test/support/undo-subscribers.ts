/**
 * The subscribers of the undo tests (local and --table): ann, own, bea and keep on MailWizz News
 * and Offers and on Interspire Main, cy unconfirmed on News; own@ had left News by their own
 * request before any bounce, so an undo must leave that list unsubscribed. Also the status
 * readers the assertions use.
 */
import type { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';

function seedUndoSubscribers(mw: FakeMailwizzServer, iem: FakeInterspireServer) {
  const news = mw.addList('News');
  const offers = mw.addList('Offers');
  const iemList = iem.addList('Main');
  for (const email of ['ann@example.com', 'own@example.com', 'bea@example.com', 'keep@example.com']) {
    mw.addSubscriber(news, email);
    mw.addSubscriber(offers, email);
    iem.addSubscriber(iemList, email);
  }
  mw.addSubscriber(news, 'cy@example.com', 'unconfirmed');
  mw.subscribers.find((s) => s.email === 'own@example.com' && s.listUid === news)!.status = 'unsubscribed';
  return {
    news,
    offers,
    /** MailWizz status of an address on a list. */
    mwStatus: (email: string, list: string) =>
      mw.subscribers.find((s) => s.email === email && s.listUid === list)?.status,
    /** Per Interspire subscription of the address: unsubscribed? */
    iemUnsubscribed: (email: string) =>
      iem.subscribers.filter((s) => s.emailaddress === email).map((s) => s.unsubscribed > 0),
  };
}

export { seedUndoSubscribers };
