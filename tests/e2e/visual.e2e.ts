import { expect, test, type Locator, type Page } from '@playwright/test';

/*
 * Visual regression: every page at a phone and a laptop size, light and dark, compared with the
 * committed baselines in visual.e2e.ts-snapshots/. Each test has a fresh context, so IndexedDB is
 * empty and every page shows its first-visit state. What depends on the moment or the machine
 * (the live camera, clocks, storage quota, the GPU found, the server's port) is hidden or masked,
 * so only layout and styling can fail it. After an intended change, regenerate the baselines:
 * `playwright test tests/e2e/visual.e2e.ts --update-snapshots`.
 */

interface Shot {
  path: string;
  name: string;
  /** Parts that differ between runs or machines, not between builds. */
  mask?: (page: Page) => Locator[];
  /** What the page shows once it has settled, when that takes more than its first data. */
  ready?: (page: Page) => Promise<void>;
}

const PAGES: Shot[] = [
  {
    path: '/',
    name: 'home',
    // "Starting camera…" gives way to the live controls at a moment that depends on the machine.
    ready: (page) => expect(page.getByRole('button', { name: 'Pause' })).toBeEnabled()
  },
  { path: '/knowledge', name: 'knowledge' },
  { path: '/video', name: 'video' },
  { path: '/studio', name: 'studio' },
  {
    path: '/models',
    name: 'models',
    // Quota and the variant chosen depend on the disk and the GPU of the machine running it.
    mask: (page) => [page.getByText(/^Storage:/), page.getByText(/^For this device:/), page.getByText(/ skipped: /)]
  },
  { path: '/classroom', name: 'classroom' },
  {
    path: '/status',
    name: 'status',
    // Engines, adapter, storage, versions and server health describe the machine, not the layout.
    mask: (page) => [page.locator('time, dd, td, [data-testid$="-value"]')]
  }
];

const SIZES = [
  { label: '390', viewport: { width: 390, height: 844 } },
  { label: '1366', viewport: { width: 1366, height: 900 } }
];

/**
 * The live camera picture changes every frame: hide it (not mask it), so the controls laid over
 * it stay in the picture and the box it fills is still compared.
 */
const HIDE_LIVE_MEDIA = 'video, canvas { visibility: hidden !important; opacity: 0 !important; }';

/** Enough for antialiasing to differ between machines; a moved or restyled block is more. */
const TOLERANCE = { maxDiffPixelRatio: 0.02 };

/** The test server's own address (its port differs between runs side by side) on any page. */
const serverAddress = (page: Page): Locator[] => [
  page.getByText(/127\.0\.0\.1/),
  page.locator('input[placeholder*="127.0.0.1"]')
];

async function settle(page: Page): Promise<void> {
  // In the document itself: the screenshot's own `style` option left the playing video visible.
  await page.addStyleTag({ content: HIDE_LIVE_MEDIA });
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready);
  // Skeletons and loading states mark themselves busy; a page is ready when none is left.
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  // Stores fill in after their first IndexedDB read: let that render before the picture.
  await page.waitForTimeout(750);
}

/** The edge server's job list grows with every test run against it: show none. */
const NO_JOBS = { object: 'list', data: [], next_cursor: null };

test.beforeEach(async ({ page }) => {
  await page.route(
    (url) => url.pathname.endsWith('/v1/jobs'),
    (route) => (route.request().method() === 'GET' ? route.fulfill({ json: NO_JOBS }) : route.fallback())
  );
});

for (const { label, viewport } of SIZES) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test.describe(`${label} px, ${colorScheme}`, () => {
      test.use({ viewport, colorScheme });

      for (const shot of PAGES) {
        test(`${shot.path} looks as it did`, async ({ page }) => {
          await page.goto(shot.path);
          await shot.ready?.(page);
          await settle(page);
          await expect(page).toHaveScreenshot(`${shot.name}-${label}-${colorScheme}.png`, {
            ...TOLERANCE,
            fullPage: true,
            animations: 'disabled',
            caret: 'hide',
            mask: [...serverAddress(page), ...(shot.mask?.(page) ?? [])]
          });
        });
      }
    });
  }
}
