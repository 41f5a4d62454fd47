import { expect, test, type Page } from '@playwright/test';

/** Every destination of the main navigation, with the label the user reads. */
const PAGES = [
  { path: '/', label: 'Camera' },
  { path: '/knowledge', label: 'Knowledge' },
  { path: '/video', label: 'Video' },
  { path: '/studio', label: 'Studio' },
  { path: '/models', label: 'Models' },
  { path: '/classroom', label: 'Classroom' },
  { path: '/status', label: 'Status' }
];

const OFFLINE_TEXT =
  "You're offline. Installed models and your data still work; downloads and the edge server wait until you're back online.";

test('"Skip to content" is the first Tab stop, shows when focused, and moves focus to the page', async ({ page }) => {
  await page.goto('/knowledge');
  // The page's controls appear once its bases are read: until then main holds nothing to Tab to.
  await expect(page.getByRole('heading', { name: 'Knowledge bases' })).toBeVisible();
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await page.keyboard.press('Tab');
  await expect(skip).toBeFocused();
  const box = await skip.boundingBox();
  expect(box, 'visible on focus').not.toBeNull();
  expect(box!.y).toBeGreaterThanOrEqual(0);
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
  // The next Tab goes into the page, not back through the navigation.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.closest('main') !== null)).toBe(true);
});

for (const width of [360, 390]) {
  test(`all ${PAGES.length} navigation labels show in full on a ${width} px phone`, async ({ page }) => {
    await page.setViewportSize({ width, height: 800 });
    await page.goto('/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const { label } of PAGES) {
      const link = nav.getByRole('link', { name: label, exact: true });
      await expect(link).toBeVisible();
      const fit = await link.evaluate((a) => {
        const text = a.querySelector('.label')!.getBoundingClientRect();
        const box = a.getBoundingClientRect();
        return {
          shape: {
            clipped: a.scrollWidth > a.clientWidth,
            inLink: text.left >= box.left && text.right <= box.right,
            inViewport: text.left >= 0 && text.right <= window.innerWidth && box.bottom <= window.innerHeight
          },
          size: Math.min(box.width, box.height)
        };
      });
      expect(fit.shape, label).toEqual({ clipped: false, inLink: true, inViewport: true });
      expect(fit.size, `${label} is a 44 px target`).toBeGreaterThanOrEqual(44);
    }
  });
}

test('the current page is marked in the navigation', async ({ page }) => {
  await page.goto('/models');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Models', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
});

test('the desktop sidebar names the app', async ({ page }) => {
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto('/');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByText('Vision Hub', { exact: true })).toBeVisible();
});

test('no prerendered page says it is offline (it would show until the app starts, then shift the page)', async ({
  request
}) => {
  for (const { path } of PAGES) {
    const html = await (await request.get(path)).text();
    expect(html, path).not.toContain('offline-banner');
  }
});

test('every page says when the app is offline, and stops saying it when back online', async ({ page, context }) => {
  for (const { path } of PAGES) {
    await page.goto(path);
    // With the CSS inlined, `load` comes before the scripts: going offline then would stop the app starting.
    await page.waitForLoadState('networkidle');
    const banner = page.getByTestId('offline-banner');
    await expect(banner, `${path} online`).toHaveCount(0);
    await context.setOffline(true);
    await expect(banner, `${path} offline`).toBeVisible();
    await expect(banner).toHaveText(OFFLINE_TEXT);
    await context.setOffline(false);
    await expect(banner, `${path} back online`).toHaveCount(0);
  }
});

/** Whether the focused element, or the label that stands in for a hidden input, draws a ring. */
async function focusRing(page: Page): Promise<{ what: string; ring: boolean } | null> {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (!(active instanceof HTMLElement) || active === document.body) {
      return null;
    }
    const hidden = active.getBoundingClientRect().width <= 1;
    const shown = hidden ? (active.closest('label') ?? active) : active;
    const style = getComputedStyle(shown);
    const what = `${shown.tagName.toLowerCase()} "${(shown.textContent ?? '').trim().slice(0, 40) || shown.getAttribute('aria-label')}"`;
    return { what, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
  });
}

for (const { path } of PAGES) {
  test(`every control on ${path} shows where keyboard focus is`, async ({ page }) => {
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    const seen: string[] = [];
    for (let stop = 0; stop < 80; stop++) {
      await page.keyboard.press('Tab');
      const focused = await focusRing(page);
      if (focused === null || (stop > 0 && focused.what.includes('Skip to content'))) {
        break;
      }
      seen.push(focused.what);
      expect(focused.ring, `focus ring on ${focused.what}`).toBe(true);
    }
    expect(seen.length, 'reached the controls of the page').toBeGreaterThan(PAGES.length);
  });
}

test('"Import task file" (a label around a hidden file input) shows the focus ring', async ({ page }) => {
  await page.goto('/');
  const input = page.getByTestId('task-input');
  await expect(input).toBeEnabled();
  await page.keyboard.press('Tab');
  await input.focus();
  const label = page.locator('label', { has: input });
  await expect(label).toContainText('Import task file');
  const outline = await label.evaluate((l) => getComputedStyle(l).outlineStyle);
  expect(outline).not.toBe('none');
});
